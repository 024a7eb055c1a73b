"""The cross-encoder phase: an index's trained re-ranker (learn/tuning/crossencoder.py) reads each of the top hits
with the query, in ONNX (no torch), within the phase's time budget: it reads the top hits in passes sized by its
measured speed to end in time, and the hits not read keep their place below those that were.

The hits it read are ordered by their incoming scores plus the version's `weight` times its logits, both as
standard scores among the hits read (the weight fitted on held-out queries when it was trained). A cross-encoder
trained on a few thousand queries knows the query-product match better than the pipeline, but not popularity,
quality or the shop's rules, which the incoming scores carry; how sure each is counts, so adding their scores beats
fusing their orders by rank (README: the cross-encoder, measured). Versions trained before the weight existed fuse
by reciprocal rank at their `mix`.

It reads selectively where its version knows how far apart the held-out queries' top ten scores were (`spreads`,
the lower and upper quartile of the highest less the tenth): where they are closest, the pipeline is least sure of its
order, and the phase gets twice its budget; where they are furthest apart, the top stands out and the phase skips,
if the version's own check found its reading gained nothing there (`skips_apart`: so it did over an earlier learned
order of Home Depot's top 100, not over the top 200). With the skip the mean time stays about a flat budget's, without
it a quarter more; the median search's is the budget either way (README: the cross-encoder, selective)."""

from __future__ import annotations

import threading
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from vitrina.catalog.embedding_text import embedding_text
from vitrina.catalog.product import Product
from vitrina.index.protocol import Scored
from vitrina.onnx_session import cpu_session
from vitrina.rank.models import RankedHit
from vitrina.rank.signals import RankContext
from vitrina.retrieve.fusion import reciprocal_rank_fusion

PHASE_NAME = "cross_encoder"
CHUNK = 10  # the most pairs per model pass: the budget is checked between passes
SPEED_MEMORY = 0.2  # how much the latest pass moves the phase's estimate of its time per pair
FUSION_K = 60  # the reciprocal rank fusion constant (Cormack et al.), as the retrieval lists use
SPREAD_TOP = 10  # the gate reads how close the first page's scores are, whatever the phase's depth
CLOSE_SHARE = 2.0  # the budget's multiple for the closest quarter of queries: the widest quarter's time, moved
WARM_PASSES = 3  # passes of each size timed when the graph is warmed (the fastest counts) ...
WARM_WORDS = 16  # ... of pairs this many words long


def fused_order(logits: np.ndarray, mix: float) -> list[int]:
    """Positions 0..n-1 (the incoming order) reordered by RRF of the cross-encoder's order (weight `mix`) and the
    incoming one (1 - mix); ties go to the incoming order."""
    key = [f"{i:06d}" for i in range(len(logits))]  # zero-padded: RRF's tie-break by id is the incoming order
    lists = {"model": [Scored(id=key[i], score=float(logits[i])) for i in np.argsort(-np.asarray(logits), kind="stable")],
             "incoming": [Scored(id=k, score=0.0) for k in key]}
    # reciprocal_rank_fusion counts ranks from 1: k one less gives FUSION_K + the 0-based position
    fused = reciprocal_rank_fusion(lists, {"model": mix, "incoming": 1 - mix}, k=FUSION_K - 1)
    return [int(c.id) for c in fused]


def standard_scores(values: np.ndarray) -> np.ndarray:
    """(values - mean) / spread among one search's hits; all 0 where they are all alike."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros(len(values))


def score_spread(scores: np.ndarray) -> float:
    """How far apart the SPREAD_TOP highest incoming scores are (the highest less the SPREAD_TOP-th), whatever order
    an earlier phase (or a serving cross-encoder, in a training run's check) left them in."""
    return float(np.ptp(np.sort(scores)[-SPREAD_TOP:])) if len(scores) else 0.0


# the weights against the incoming scores a trained version's held-out check tries (learn/tuning/train.py)
WEIGHT_STEPS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


def combined_values(scores: np.ndarray, logits: np.ndarray, weight: float) -> np.ndarray:
    """The incoming scores plus `weight` times the logits, as standard scores. The incoming scores are first made
    to fall along the incoming order (each at most those above it), so an earlier phase's re-ordering is the base,
    not undone."""
    base = np.minimum.accumulate(np.asarray(scores, dtype=np.float64))
    return standard_scores(base) + weight * standard_scores(np.asarray(logits, dtype=np.float64))


def combined_order(scores: np.ndarray, logits: np.ndarray, weight: float) -> list[int]:
    """Positions 0..n-1 (the incoming order) reordered by `combined_values`; ties go to the incoming order."""
    if not len(logits):
        return []
    return [int(i) for i in np.argsort(-combined_values(scores, logits, weight), kind="stable")]


class OnnxCrossEncoder:
    """The graph behind the phase. A pass runs on `threads` threads while it is the only pass of this model in
    flight, on one while others run beside it: onnxruntime's threads spin while they wait for work, so two
    searches' passes of two threads each would fight over two cores. So it holds a graph session per thread count
    it has used.

    A pass costs time of its own besides its pairs' (the graph's run, the batch's set-up): on 2 EPYC cores 0.5 to
    1.2 ms, up to what one more pair of a product title costs, so a pass of 3 may take a fifth longer than 3/10 of a
    pass of 10. `pass_ms` is that time, measured when the graph is warmed, so the phase sizes a last short pass to end in
    time (one sized by the ms per pair of full passes ran over by about that much)."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, threads: int = 1, max_length: int = 128,
                 spin_after_run: bool = False):
        self.onnx_path, self.tokenizer_path = Path(onnx_path), Path(tokenizer_path)
        self.threads, self.max_length = threads, max_length
        self.spin_after_run = spin_after_run  # onnxruntime's default; off here (onnx_session.py)
        self._sessions: dict[int, Any] = {}
        self._lock = threading.Lock()  # guards the sessions and the count of passes in flight
        self._in_flight = 0
        self.pass_ms = 0.0  # a pass's own time beside its pairs' (measured by `warm`)
        self._warmed = False

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    def _session(self, threads: int) -> Any:
        """The graph's session on `threads` threads, loaded on first use (callers hold the lock)."""
        if threads not in self._sessions:
            self._sessions[threads] = cpu_session(self.onnx_path, threads, self.spin_after_run)
        return self._sessions[threads]

    def warm(self) -> None:
        """Loads the tokenizer and the graph's sessions now rather than in the first pass, and measures a pass's
        own time: the fastest of a few passes of one pair and of CHUNK pairs, each as short as a product title (in
        long pairs the pairs' time hides it)."""
        _ = self._tokenizer
        with self._lock:
            for threads in {1, self.threads}:
                self._session(threads)
            if self._warmed:
                return
            self._warmed = True
        pair = ("a query", " ".join(["word"] * WARM_WORDS))
        one, full = (min(self._timed([pair] * size) for _ in range(WARM_PASSES)) for size in (1, CHUNK))
        self.pass_ms = max(0.0, one - (full - one) / (CHUNK - 1)) * 1000

    def _timed(self, pairs: list[tuple[str, str]]) -> float:
        started = time.perf_counter()
        self.logits(pairs)
        return time.perf_counter() - started

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch(pairs)
        feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                 "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        with self._lock:
            self._in_flight += 1
            session = self._session(self.threads if self._in_flight == 1 else 1)
        try:
            return np.asarray(session.run(None, feeds)[0], dtype=np.float32).reshape(-1)
        finally:
            with self._lock:
                self._in_flight -= 1


class CrossEncoderPhase:
    name = PHASE_NAME

    def __init__(self, model: OnnxCrossEncoder, version: str, mix: float = 1.0, weight: float | None = None,
                 spreads: tuple[float, float] | None = None, skips_apart: bool = True):
        self.model = model
        self.version = version  # part of the engine's response cache key
        self.mix, self.weight = mix, weight
        self.spreads = spreads  # (close, apart); None: a flat budget for every query
        self.skips_apart = skips_apart  # False: a search whose top stands apart gets the budget, not none
        # ms per pair on this machine, from the passes searches ran less the model's `pass_ms` each: a pass reads
        # only as many as should end by the deadline, so the budget is kept rather than overrun by a whole pass
        # (None: no pass timed yet)
        self.ms_per_pair: float | None = None

    def budget_share(self, hits: list[RankedHit]) -> tuple[float, str]:
        """The share of its budget this search's hits get, and why where it is none (rank/ranker.py)."""
        if self.spreads is None or len(hits) < 2:
            return 1.0, ""
        spread, (close, apart) = score_spread(np.array([h.score for h in hits])), self.spreads
        if spread >= apart and self.skips_apart:
            return 0.0, (f"the top hits' scores stand apart ({spread:.4g} from the first to the {SPREAD_TOP}th; "
                         f"it reads below {apart:.4g})")
        return (CLOSE_SHARE if spread < close else 1.0), ""

    def _pass_size(self, deadline: float, first: bool) -> int:
        """How many pairs the next pass reads. The first pass of a search reads at least one while there is time
        left, so a slow moment's estimate is measured again rather than kept forever."""
        left_ms = (deadline - time.perf_counter()) * 1000
        if self.ms_per_pair is None:
            return CHUNK
        fit = min(CHUNK, int((left_ms - self.model.pass_ms) / self.ms_per_pair))
        return max(fit, 1) if first and left_ms > 0 else max(fit, 0)

    def rerank(self, context: RankContext, hits: list[RankedHit], deadline: float) -> list[RankedHit]:
        query = context.parsed.raw
        if self.ms_per_pair is None:
            self.model.warm()  # loading the graph is no measure of its speed
        logits: list[float] = []
        # passes while hits are unread and time is left; the rest keep their order, below the ones read
        while len(logits) < len(hits) and (size := self._pass_size(deadline, not logits)) > 0:
            chunk = hits[len(logits):len(logits) + size]
            started = time.perf_counter()
            texts = [embedding_text(Product.model_validate(h.product)) for h in chunk]
            for hit, logit in zip(chunk, self.model.logits([(query, t) for t in texts]), strict=True):
                logits.append(float(logit))
                hit.explanation.cross_encoder = round(float(logit), 4)
            ms = (time.perf_counter() - started) * 1000
            # its pairs' share at least half the pass: a measured own time above that was a slow moment's
            took = max(ms - self.model.pass_ms, ms / 2, 1e-6) / len(chunk)
            self.ms_per_pair = took if self.ms_per_pair is None else (
                (1 - SPEED_MEMORY) * self.ms_per_pair + SPEED_MEMORY * took)
        if self.weight is None:
            read = fused_order(np.array(logits), self.mix)
        else:
            read = combined_order(np.array([h.score for h in hits[:len(logits)]]), np.array(logits), self.weight)
        return [hits[i] for i in read] + hits[len(logits):]
