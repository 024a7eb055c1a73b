"""A training run's many searches (each training query's top hits for the learned order, for mining negatives, for
checking a model), shared among processes. A search is mostly Python (ranking some 200 candidates), so threads of one
process take turns on the interpreter lock; processes that each open the index search it side by side, as
`serve --workers` does. This process takes the first share; each other share goes to a fresh process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Literal, TypeVar

from vitrina.rank.models import RankedHit

if TYPE_CHECKING:
    from vitrina.config import Settings
    from vitrina.engine import Engine

# first_phase: the default profile without the trained phases; before_reranker: with the serving learned order;
# fused: the retrieval lists' fused order (the `rrf` profile)
SearchKind = Literal["first_phase", "before_reranker", "fused"]
T = TypeVar("T")
SHARED_FROM = 400  # fewer queries than this run here: a process costs a few seconds to start and open the index


def top_hits(engine: Engine, kind: SearchKind, query: str, depth: int) -> list[RankedHit]:
    if kind == "first_phase":
        return engine.first_phase(query, depth)
    if kind == "before_reranker":
        return engine.before_reranker(query, depth)
    return engine.search(query, size=depth, profile="rrf").hits


def keep_hits(query: str, hits: list[RankedHit]) -> list[RankedHit]:
    return hits


def top_ids(query: str, hits: list[RankedHit]) -> list[str]:
    return [str(h.product["id"]) for h in hits]


def _searched_apart(settings: Settings, kind: SearchKind, queries: list[str], depth: int,
                    then: Callable[[str, list[RankedHit]], T]) -> list[T]:
    """In another process: the index opened afresh, its share searched."""
    from vitrina.engine import open_engine

    engine = open_engine(settings=settings)
    try:
        return [then(query, top_hits(engine, kind, query, depth)) for query in queries]
    finally:
        engine.close()


def searched(engine: Engine, kind: SearchKind, queries: list[str], depth: int, then: Callable[[str, list[RankedHit]], T],
             processes: int, shared_from: int = SHARED_FROM) -> list[T]:
    """`then(query, its top depth hits)` for each query, in the queries' order (`then` runs where the search did, so
    its work is shared too: a module's function, as processes are handed it by name). In `processes` processes
    where there are at least `shared_from` queries and the engine can be opened again alike (nothing was plugged
    into it in code); should the other processes fail to start (a script without a `__main__` guard), here."""
    def here(share: list[str]) -> list[T]:
        return [then(query, top_hits(engine, kind, query, depth)) for query in share]

    if processes <= 1 or len(queries) < shared_from or not engine.reopens_alike:
        return here(queries)
    size = -(-len(queries) // processes)
    shares = [queries[start:start + size] for start in range(0, len(queries), size)]
    with ProcessPoolExecutor(len(shares) - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        apart = [pool.submit(_searched_apart, engine.settings, kind, share, depth, then) for share in shares[1:]]
        out = here(shares[0])
        for share, done in zip(shares[1:], apart, strict=True):
            try:
                out.extend(done.result())
            except BrokenProcessPool:
                out.extend(here(share))
    return out
