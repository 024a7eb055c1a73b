"""A static encoder distilled from the MiniLM we ship: a vector per vocabulary token, computed once from the model,
then averaged per text. Hundreds of times faster than running the transformer, at some cost in relevance
(measured beside MiniLM in the README).

The distillation is model2vec's (Tulkens and van Dongen, 2024), done here on our ONNX graph because the
`model2vec` library's own needs torch and a model hub:
  1. every token of the tokenizer's vocabulary, alone between [CLS] and [SEP], through the teacher, mean-pooled;
  2. PCA of those token vectors (centred, `static_dimension` components): it drops the direction every token
     shares, which would otherwise dominate an average;
  3. each token vector scaled by a smooth inverse frequency, sif / (sif + p(rank)) with p Zipfian in the token's
     vocabulary rank (WordPiece vocabularies list frequent pieces first), so common pieces count less.
A text's vector is the sum of its tokens' vectors, L2-normalised (the mean's direction). The table is distilled
on first use (under a minute on 2 cores) and kept in `static_path` (default: the user's cache folder), named by
the teacher's identity.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from vitrina.config import EncoderSettings
from vitrina.embed.encoder import OnnxMiniLMEncoder

SIF = 1e-4
BATCH = 512


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vitrina"


class StaticEncoder:
    def __init__(self, settings: EncoderSettings, teacher: OnnxMiniLMEncoder | None = None):
        self.settings = settings
        self.teacher = teacher or OnnxMiniLMEncoder(settings)
        self.dimension = settings.static_dimension

    @cached_property
    def model_id(self) -> str:
        return f"static:{self.dimension}:{self.teacher.model_id}"

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.teacher.tokenizer_path))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return tokenizer

    @cached_property
    def table(self) -> np.ndarray:
        """Token id -> its vector (SIF-weighted, PCA'd), distilled once and kept on disk."""
        folder = self.settings.static_path or default_cache()
        path = folder / f"{self.model_id.replace(':', '-')}.npy"
        if path.exists():
            return np.load(path)
        table = distill(self.teacher, self._tokenizer, self.dimension)
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(partial, table)
        partial.replace(path)  # whole or absent: a crash mid-write leaves no half table to load
        return table

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        table = self.table
        encodings = self._tokenizer.encode_batch([t[: self.settings.max_length * 8] for t in texts],
                                                 add_special_tokens=False)
        lengths = np.array([len(e.ids) for e in encodings])
        flat = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        # Token counts per text (a sparse texts x vocabulary matrix) times the table: the sum of each text's
        # token vectors without gathering a row per token (which copies ~100 KB per text and is 10x slower).
        counts = csr_matrix((np.ones(len(flat), dtype=np.float32), flat, np.concatenate([[0], np.cumsum(lengths)])),
                            shape=(len(texts), len(table)))
        out = np.asarray(counts @ table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)


def distill(teacher: OnnxMiniLMEncoder, tokenizer, dimension: int) -> np.ndarray:
    vocab_size = tokenizer.get_vocab_size()
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    vectors = np.empty((vocab_size, teacher.dimension), dtype=np.float32)
    for start in range(0, vocab_size, BATCH):
        tokens = np.arange(start, min(start + BATCH, vocab_size), dtype=np.int64)
        ids = np.stack([np.full_like(tokens, cls_id), tokens, np.full_like(tokens, sep_id)], axis=1)
        vectors[start:start + len(tokens)] = teacher.pooled(ids, np.ones_like(ids))
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dimension].T
    rank = np.arange(1, vocab_size + 1, dtype=np.float64)
    probability = (1 / rank) / (1 / rank).sum()
    weights = SIF / (SIF + probability)
    return (reduced * weights[:, None]).astype(np.float32)
