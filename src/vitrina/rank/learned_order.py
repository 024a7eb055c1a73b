"""The learned order of the top hits: a LambdaMART model (LightGBM) an index trains on its own judgments or
events (learn/tuning/order.py) re-orders the first phase's top hits, before the cross-encoder reads them.

The first phase adds its signals with declared weights, the same for every query. The model sees how the query's
words meet each title (how many are there, whether the last word, usually the product type, is, whether its
numbers and the first word, often a brand, are; how many of the query's letter triples and quadruples the title
has, which still meet where a word is misspelt, joined or split: "toliet", "60w", "sheet rock"), beside the
signals and the lists' ranks, and learns what the shop's shoppers meant by them: on Home Depot, trained on the 80%
split's judged queries, the first 200 hits re-ordered scored 0.4495 on the unseen queries against the first phase's
0.4146, in about 10 ms a search (README: the learned order of the top 200, from the candidates it serves). It is not
the `learned` phase (learn/phase.py), which moves products by what shoppers did to each of them.

Its scores replace the hits' scores on their scale (the incoming mean and spread), so the cross-encoder's
combination and its gate read them as they read the first phase's."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from vitrina.rank.cross_encoder import standard_scores
from vitrina.rank.models import RankedHit
from vitrina.rank.signals import WORD, RankContext

PHASE_NAME = "learned_order"
ABSENT_RANK = 100  # a list that did not find the hit: ranked below any list's depth
SIGNALS = ("semantic", "lexical", "constraint", "metadata")
# Words that say nothing of the product in a query or a title (English; measures such as "x" in "2 x 4" too).
STOPWORDS = frozenset("a an the for of to in on with and or x by is".split())
FEATURES = ("rank", "score", *SIGNALS, "exact_title", "bm25_rank", "vector_rank", "fused", "query_words",
            "title_words", "coverage", "matched", "last_word_in_title", "last_word_place", "query_numbers",
            "numbers_matched", "first_word_in_title", "same_first_word", "pairs_matched", "phrase_in_title",
            "score_standard", "semantic_standard", "lexical_standard", "trigrams_in_title", "trigram_overlap",
            "fourgrams_in_title", "title_trigrams_asked", "trigrams_behind_best", "coverage_behind_best")


class OrderWords:
    """A text's words as the model compares them: lower-cased, stopwords out, stemmed (Snowball, English)."""

    @cached_property
    def _stemmer(self):
        import Stemmer

        return Stemmer.Stemmer("english")

    def __call__(self, text: str) -> list[str]:
        return self._stemmer.stemWords([w for w in WORD.findall(text.lower()) if w not in STOPWORDS])


def _share(part: int, whole: int) -> float:
    """part/whole, or -1 where there is nothing to share (no numbers, no word pairs in the query)."""
    return part / whole if whole else -1.0


def _word_features(query: list[str], title: list[str]) -> list[float]:
    have = set(title)
    asked = set(query)
    numbers = [w for w in query if w.isdigit()]
    words = [w for w in query if not w.isdigit()]
    last = words[-1] if words else ""
    pairs = set(zip(query, query[1:], strict=False))
    return [len(query), len(title), _share(len(asked & have), len(asked)), len(asked & have),
            float(last in have), title.index(last) / len(title) if last in have else 1.5,
            len(numbers), _share(sum(n in have for n in numbers), len(numbers)),
            float(bool(query) and query[0] in have), float(bool(query) and bool(title) and query[0] == title[0]),
            _share(len(pairs & set(zip(title, title[1:], strict=False))), len(pairs)),
            float(bool(query) and " ".join(query) in " ".join(title))]


def letter_runs(text: str, n: int) -> set[str]:
    """The text's runs of n characters, its words lower-cased and spaced by one blank, a blank at each end (so a
    word's start and end are runs of their own)."""
    spaced = f" {' '.join(WORD.findall(text.lower()))} "
    return {spaced[i:i + n] for i in range(len(spaced) - n + 1)}


def _letter_features(asked3: set[str], asked4: set[str], title: str) -> list[float]:
    """How the query's letter triples and quadruples meet the title's."""
    have3, have4 = letter_runs(title, 3), letter_runs(title, 4)
    shared = len(asked3 & have3)
    return [shared / max(1, len(asked3)), shared / max(1, len(asked3 | have3)),
            len(asked4 & have4) / max(1, len(asked4)), shared / max(1, len(have3))]


def order_features(query: str, hits: list[RankedHit], words: OrderWords) -> np.ndarray:
    """One row of FEATURES per hit, in the incoming order."""
    if not hits:  # a query that found nothing: no row, and no standard score of nothing
        return np.zeros((0, len(FEATURES)))
    asked, asked3, asked4 = words(query), letter_runs(query, 3), letter_runs(query, 4)
    matched, letters = [], []
    for rank, hit in enumerate(hits):
        e = hit.explanation
        title = str(hit.product.get("title") or "")
        matched.append([rank, hit.score, *(e.signals.get(s, 0.0) for s in SIGNALS), e.boosts.get("exact_title", 0.0),
                        e.retrievers.get("bm25", ABSENT_RANK), e.retrievers.get("vector", ABSENT_RANK), e.fused,
                        *_word_features(asked, words(title))])
        letters.append(_letter_features(asked3, asked4, title))
    table, runs = np.array(matched, dtype=np.float64), np.array(letters, dtype=np.float64)
    standard = [standard_scores(table[:, FEATURES.index(name)]) for name in ("score", "semantic", "lexical")]
    # how far each hit is behind the list's best: the same share means more in a list where nothing has more
    behind = [column - column.max(initial=0.0) for column in (runs[:, 0], table[:, FEATURES.index("coverage")])]
    return np.hstack([table, np.stack(standard, axis=1), runs, np.stack(behind, axis=1)])


def on_incoming_scale(model_scores: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """The model's scores moved to the incoming scores' mean and spread, none below the lowest incoming one (so
    the hits the phase did not read stay below)."""
    spread = float(incoming.std())
    moved = incoming.mean() + spread * standard_scores(model_scores) if spread > 0 else incoming.copy()
    return np.maximum(moved, incoming.min())


class StaleOrderModel(ValueError):
    """A version trained on another set of features than this Vitrina makes (an older release's)."""


class LearnedOrderModel:
    """A trained version's LightGBM model, read from its text file."""

    def __init__(self, path: Path):
        import lightgbm

        self.booster = lightgbm.Booster(model_file=str(path))
        if self.booster.num_feature() != len(FEATURES):
            raise StaleOrderModel(f"{path}: the model reads {self.booster.num_feature()} features, this Vitrina makes "
                             f"{len(FEATURES)}: train the learned order again")

    def scores(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float64)


class LearnedOrderPhase:
    name = PHASE_NAME

    def __init__(self, model: LearnedOrderModel, version: str):
        self.model = model
        self.version = version  # part of the engine's response cache key
        self.words = OrderWords()

    def rerank(self, context: RankContext, hits: list[RankedHit], deadline: float) -> list[RankedHit]:
        scores = self.model.scores(order_features(context.parsed.raw, hits, self.words))
        moved = on_incoming_scale(scores, np.array([h.score for h in hits]))
        for hit, score, value in zip(hits, scores, moved, strict=True):
            hit.explanation.learned_order = round(float(score), 4)
            hit.score = round(float(value), 6)
        return [hits[i] for i in np.argsort(-scores, kind="stable")]
