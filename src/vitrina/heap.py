"""The garbage collector's share of search latency.

CPython's full collection walks every tracked object. A search engine's process holds a large, long-lived heap (the
pipeline, rules, vocabularies, models' Python side), so each full collection paused whichever search it fell in
for 30-200 ms, about 3% of searches at 44k products (the whole of the p99 stalls). After a generation is opened
and warmed, what is alive stays alive until the next one: it is moved out of the collector's reach (gc.freeze),
and the youngest generation is collected less often, so the few objects a search leaves behind are collected in
small, cheap passes."""

from __future__ import annotations

import ctypes
import gc


def settle(young_threshold: int) -> None:
    """Collect once, then freeze what is alive; collect generation 0 every `young_threshold` allocations."""
    gc.unfreeze()  # what an earlier settle froze and has since become garbage (an old generation's cycles) goes now
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


def release_native() -> None:
    """Hand the native heap's free pages back to the OS (glibc's malloc_trim). The index's native structures are
    freed in many small blocks that glibc keeps for reuse: after an ingest step frees a segment's build, the
    process would otherwise stay at that step's high-water mark. A no-op where glibc is not the allocator."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: no library lookup, no subprocess
    except (OSError, AttributeError):
        return
    trim(0)
