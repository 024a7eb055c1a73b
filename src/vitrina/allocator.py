"""The native memory allocator of a `vitrina` process: mimalloc where its wheel is installed, glibc's otherwise.

Qdrant Edge builds an index in many small native allocations: at 100k products, 55-60% of the optimise step ran
inside glibc's malloc and free (perf: _int_malloc and malloc_consolidate over a heap the ingest fragmented). With
mimalloc the same ingest indexed 1.39x the products a second with an index per filter field and 1.15x with them
folded (bench/results/ingest-layout.md). A process's
allocator is fixed when it starts, so the command line re-executes itself once with mimalloc preloaded (as
`LD_PRELOAD=libjemalloc.so` deployments do by hand); the processes it starts (workers, the learner) inherit it.
VITRINA_ALLOCATOR=system keeps glibc's. Python code that embeds Engine chooses for its own process.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Mapping
from pathlib import Path

CHOICE = "VITRINA_ALLOCATOR"
CHOICES = ("mimalloc", "system")


def mimalloc_library() -> Path | None:
    """libmimalloc.so from the cmeel-mimalloc wheel, or None where it is not installed."""
    try:
        files = importlib.metadata.files("cmeel-mimalloc") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == "libmimalloc.so":
            path = Path(str(file.locate()))
            return path if path.exists() else None
    return None


def preload_environment(env: Mapping[str, str]) -> dict[str, str] | None:
    """The environment to re-execute with, or None where this process should keep its allocator: the choice is
    'system', mimalloc is already preloaded (this is the re-executed process), it is not Linux, or there is no
    library. An unknown choice is refused before anything runs."""
    choice = env.get(CHOICE, "mimalloc")
    if choice not in CHOICES:
        raise SystemExit(f"{CHOICE}={choice!r}: choose one of {', '.join(CHOICES)}")
    preloaded = env.get("LD_PRELOAD", "")
    if choice == "system" or "mimalloc" in preloaded or not sys.platform.startswith("linux"):
        return None
    library = mimalloc_library()
    if library is None:
        return None
    return {**env, "LD_PRELOAD": f"{library} {preloaded}".strip()}


def use_preferred() -> None:
    """Re-execute this command with mimalloc preloaded, unless preload_environment says to keep this process."""
    env = preload_environment(os.environ)
    if env is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
