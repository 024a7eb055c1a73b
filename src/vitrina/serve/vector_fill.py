"""Vectors filled in the background after an ingest with `?vectors=later`: a thread per tenant, one batch (one
new generation) at a time under the tenant's write lock, so other writes interleave; progress for the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from pydantic import BaseModel

from vitrina.engine import Engine

BATCH = 2048


class FillProgress(BaseModel):
    running: bool = False
    total: int = 0  # products without a vector when this fill began (more may arrive)
    filled: int = 0
    missing: int = 0  # still without one, now
    seconds: float = 0.0
    eta_seconds: float | None = None
    error: str | None = None


class VectorFillers:
    def __init__(self) -> None:
        self._state: dict[str, FillProgress] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._guard = threading.Lock()

    def start(self, tenant: str, engine: Engine, lock: Callable[[], AbstractContextManager]) -> FillProgress:
        """Fill the tenant's missing vectors in the background (no-op while a fill of it runs)."""
        with self._guard:
            thread = self._threads.get(tenant)
            if thread is not None and thread.is_alive():
                return self._state[tenant]
            state = self._state[tenant] = FillProgress(running=True, total=engine.missing_vectors())
            thread = threading.Thread(target=self._run, args=(tenant, engine, lock, state), daemon=True,
                                      name=f"vectors-{tenant}")
            self._threads[tenant] = thread
        thread.start()
        return state

    def _run(self, tenant: str, engine: Engine, lock: Callable[[], AbstractContextManager], state: FillProgress) -> None:
        started = time.perf_counter()
        try:
            while True:
                with lock():
                    done = engine.fill_vectors(BATCH, max_batches=1)
                state.filled += done.filled
                state.seconds = round(time.perf_counter() - started, 1)
                left = max(state.total - state.filled, 0)
                state.eta_seconds = round(state.seconds / state.filled * left, 1) if state.filled else None
                if not done.filled:
                    break
        except Exception as exc:  # reported, never raised into nowhere: the products stay searchable by words
            state.error = f"{type(exc).__name__}: {exc}"
        finally:
            state.running = False

    def progress(self, tenant: str, engine: Engine) -> FillProgress:
        state = self._state.get(tenant, FillProgress())
        return state.model_copy(update={"missing": engine.missing_vectors()})
