"""Ranking metrics on plain dicts: product id -> graded gain."""

from __future__ import annotations

import math


def dcg(gains: list[float], exponential: bool) -> float:
    return sum(((2 ** g - 1) if exponential else g) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: list[str], grades: dict[str, float], k: int = 10, exponential: bool = False) -> float:
    ideal = dcg(sorted(grades.values(), reverse=True)[:k], exponential)
    if ideal <= 0:
        return 0.0
    return dcg([grades.get(pid, 0.0) for pid in ranked[:k]], exponential) / ideal


def precision_at_k(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    return sum(1 for pid in ranked[:k] if pid in relevant) / k


def recall_at_k(ranked: list[str], relevant: set[str], k: int = 100) -> float:
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0
