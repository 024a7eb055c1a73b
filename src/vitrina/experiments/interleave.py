"""Team-draft interleaving (Radlinski, Kurup and Joachims, 2008): two rankings merged into one page, each product
credited to the ranking ("team") that placed it; a search's clicks vote for the team with more of them."""

from __future__ import annotations

import random
from collections.abc import Sequence

from vitrina.pipeline import SearchResponse

INTERLEAVED = "interleaved"


def team_draft(first: Sequence[str], second: Sequence[str], size: int, seed: str) -> list[tuple[str, int]]:
    """(product id, team 0 or 1) for the merged page. The team with fewer picks picks next, a seeded coin
    breaking ties; each picks its highest-ranked product not on the page yet."""
    rng = random.Random(seed)
    lists, cursors, picks = (list(first), list(second)), [0, 0], [0, 0]
    taken: set[str] = set()
    merged: list[tuple[str, int]] = []
    while len(merged) < size:
        order = [0, 1] if picks[0] < picks[1] or (picks[0] == picks[1] and rng.random() < 0.5) else [1, 0]
        for team in order:
            while cursors[team] < len(lists[team]) and lists[team][cursors[team]] in taken:
                cursors[team] += 1
            if cursors[team] < len(lists[team]):
                pid = lists[team][cursors[team]]
                taken.add(pid)
                merged.append((pid, team))
                picks[team] += 1
                break
        else:
            break  # both rankings are used up
    return merged


def votes(teams: dict[str, str], clicked: Sequence[str]) -> dict[str, int]:
    """Clicks per team in one search."""
    counted: dict[str, int] = {}
    for pid in dict.fromkeys(clicked):
        if pid in teams:
            counted[teams[pid]] = counted.get(teams[pid], 0) + 1
    return counted


def interleave_responses(first: SearchResponse, second: SearchResponse, size: int,
                         names: tuple[str, str]) -> tuple[SearchResponse, dict[str, str]]:
    """One page from two variants' responses, and which variant placed each product on it."""
    picks = team_draft([str(h.product["id"]) for h in first.hits], [str(h.product["id"]) for h in second.hits],
                       size, seed=first.search_id)
    hits = {str(h.product["id"]): h for h in second.hits} | {str(h.product["id"]): h for h in first.hits}
    merged = first.model_copy(update={"hits": [hits[pid] for pid, _ in picks], "profile": INTERLEAVED})
    return merged, {pid: names[team] for pid, team in picks}
