"""The cross-encoder phase: an index's trained re-ranker (learn/tuning/crossencoder.py) reads each of the top hits
with the query, in ONNX (no torch), within the phase's time budget: when the budget runs out, the hits not yet
read keep their place below those that were.

The hits it read are ordered by reciprocal rank fusion of its order and the order they came in, its share being
the version's `mix` (fitted on held-out queries when it was trained; 1: its order alone). A cross-encoder trained on
a few thousand queries knows the query-product match better than the pipeline, but not popularity, quality or the
shop's rules, which the incoming order carries."""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

import numpy as np

from vitrina.catalog.embedding_text import embedding_text
from vitrina.catalog.product import Product
from vitrina.index.protocol import Scored
from vitrina.rank.models import RankedHit
from vitrina.rank.signals import RankContext
from vitrina.retrieve.fusion import reciprocal_rank_fusion

PHASE_NAME = "cross_encoder"
CHUNK = 10  # pairs per model pass: the budget is checked between passes
FUSION_K = 60  # the reciprocal rank fusion constant (Cormack et al.), as the retrieval lists use


def fused_order(logits: np.ndarray, mix: float) -> list[int]:
    """Positions 0..n-1 (the incoming order) reordered by RRF of the cross-encoder's order (weight `mix`) and the
    incoming one (1 - mix); ties go to the incoming order."""
    key = [f"{i:06d}" for i in range(len(logits))]  # zero-padded: RRF's tie-break by id is the incoming order
    lists = {"model": [Scored(id=key[i], score=float(logits[i])) for i in np.argsort(-np.asarray(logits), kind="stable")],
             "incoming": [Scored(id=k, score=0.0) for k in key]}
    # reciprocal_rank_fusion counts ranks from 1: k one less gives FUSION_K + the 0-based position
    fused = reciprocal_rank_fusion(lists, {"model": mix, "incoming": 1 - mix}, k=FUSION_K - 1)
    return [int(c.id) for c in fused]


class OnnxCrossEncoder:
    def __init__(self, onnx_path: Path, tokenizer_path: Path, threads: int = 1, max_length: int = 128):
        self.onnx_path, self.tokenizer_path = Path(onnx_path), Path(tokenizer_path)
        self.threads, self.max_length = threads, max_length

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    @cached_property
    def _session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])

    def logits(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch(pairs)
        feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                 "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        return np.asarray(self._session.run(None, feeds)[0], dtype=np.float32).reshape(-1)


class CrossEncoderPhase:
    name = PHASE_NAME

    def __init__(self, model: OnnxCrossEncoder, version: str, mix: float = 1.0):
        self.model = model
        self.version = version  # part of the engine's response cache key
        self.mix = mix

    def rerank(self, context: RankContext, hits: list[RankedHit], deadline: float) -> list[RankedHit]:
        query = context.parsed.raw
        logits: list[float] = []
        for start in range(0, len(hits), CHUNK):
            if start and time.perf_counter() > deadline:
                break  # out of time: the rest keep their order, below
            chunk = hits[start:start + CHUNK]
            texts = [embedding_text(Product.model_validate(h.product)) for h in chunk]
            for offset, logit in enumerate(self.model.logits([(query, t) for t in texts])):
                logits.append(float(logit))
                chunk[offset].explanation.cross_encoder = round(float(logit), 4)
        read = fused_order(np.array(logits), self.mix)
        return [hits[i] for i in read] + hits[len(logits):]
