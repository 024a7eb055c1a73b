"""One way to open an ONNX graph on the CPU for every model the engine runs (text encoder, image tower,
cross-encoder).

onnxruntime's pool threads keep spinning for a while after a run, waiting for more work. One process here holds
several sessions, each with its own pool: a search encodes its query on one, then the cross-encoder reads pairs on
another, and on a 2-core machine the first pool's spinning thread took the core the second needed (the
cross-encoder's 30 pairs on two threads took as long as on one right after a query's encoding). So a pool stops
spinning when its run ends (`session.force_spinning_stop`); within a run its threads still spin between operators,
where waking a sleeping thread for each would cost more (bench/results/onnx-spinning.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(path: Path | str, threads: int, spin_after_run: bool = False) -> Any:
    """An onnxruntime session on `threads` intra-op threads whose pool stops spinning when a run ends (unless
    `spin_after_run`: onnxruntime's own default, kept for the benchmark that compares the two)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not spin_after_run:
        options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
