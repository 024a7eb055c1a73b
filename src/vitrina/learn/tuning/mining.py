"""Negatives mined from the engine's own lists: per query, products it ranks near the top that no judgment or
event of the query names, the near misses the index puts in front of a shopper. The cross-encoder learns from them
as pairs labelled 0 (it re-orders just such a list's top); the encoder can take them as hard negatives, off by
default (it read worse on unseen Home Depot queries: README). Unjudged is not proof of irrelevance, so a query gets
few of them, and a product a judge graded in between (neither a positive nor a negative) is never one."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from vitrina.learn.tuning.pairs import PairSet
from vitrina.learn.tuning.searches import searched, top_ids

if TYPE_CHECKING:
    from vitrina.engine import Engine

MINE_DEPTH = 30


def mined_negatives(engine: Engine, pairs: PairSet, per_query: int, seed: int,
                    processes: int = 1) -> dict[str, list[str]]:
    """Per query, up to `per_query` products the engine's fused lists (`rrf`) rank in their top MINE_DEPTH that
    no pair of the query names and no judge graded in between. Not the served ranking's top, though that is what
    the cross-encoder reads: mined there, on Home Depot its held-out check refused the int8 graph and all 30 read
    gained less (README: the cross-encoder, measured)."""
    out: dict[str, list[str]] = {}
    if per_query <= 0:
        return out
    rng = random.Random(seed)
    named: dict[str, set[str]] = {}
    for pair in pairs.pairs:
        named.setdefault(pair.query, set()).update([pair.product_id, *pair.negatives])
    queries = sorted(named)
    for query, top in zip(queries, searched(engine, "fused", queries, MINE_DEPTH, top_ids, processes), strict=True):
        taken = named[query] | set(pairs.unsure.get(query, ()))
        free = [pid for pid in top if pid not in taken]
        out[query] = rng.sample(free, min(per_query, len(free)))
    return out
