"""Crash-safe index directory: every write goes to a new generation, published by one atomic rename.

    <root>/CURRENT           name of the live generation
    <root>/gen-000007/shard  the Qdrant Edge shard
    <root>/gen-000007/products.sqlite  product ids and records
    <root>/gen-000007/meta.json, stats.json

A crash mid-write leaves CURRENT pointing at the previous, complete generation; the half-written one
is swept away by the next write.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from vitrina.catalog.stats import QUANTILES, CatalogStats
from vitrina.index.protocol import KEYWORD_FIELDS, IndexBackend, ProductIndex

_WORD = re.compile(r"[a-z][a-z'-]+[a-z]")
MAX_WORDS = 100_000  # the spelling corrector's vocabulary: the catalog's most used words


class IndexMeta(BaseModel):
    model_id: str
    dimension: int
    model_version: str | None = None  # the index's own fine-tuned encoder (learn/tuning), None: the configured one
    image_model: str | None = None  # the image tower whose vectors the photos have (a photo query needs the same)
    count: int = 0
    generation: int = 0


def compute_stats(index: ProductIndex) -> CatalogStats:
    """The catalog statistics of a generation, written beside it when it is published."""
    prices: dict[str, list[float]] = defaultdict(list)
    currencies: Counter[str] = Counter()
    names: dict[str, str] = {}
    words: Counter[str] = Counter()
    type_genders: dict[str, Counter[str]] = defaultdict(Counter)
    type_occasions: dict[str, Counter[str]] = defaultdict(Counter)
    count = 0
    for payload in index.payloads(["type", "price", "currency", "display_type", "display_brand", "brand", "text",
                                   "gender", "occasions"]):
        count += 1
        if payload.get("type") and payload.get("gender"):
            type_genders[payload["type"]][payload["gender"]] += 1
        if payload.get("type"):
            type_occasions[payload["type"]].update(set(payload.get("occasions") or []))
        price = payload.get("price")
        if price is not None:
            prices["*"].append(price)
            if payload.get("type"):
                prices[payload["type"]].append(price)
        if payload.get("currency"):
            currencies[payload["currency"]] += 1
        for key, shown in (("type", "display_type"), ("brand", "display_brand")):
            if payload.get(key) and payload.get(shown):
                names.setdefault(payload[key], payload[shown])
        words.update(set(_WORD.findall(str(payload.get("text", "")).lower())))
    values = {name: dict(counts) for name, counts in index.facets(list(KEYWORD_FIELDS), limit=100_000).items()}
    quantiles = {t: [float(x) for x in np.quantile(np.asarray(p), QUANTILES)] for t, p in prices.items() if p}
    return CatalogStats(count=count, currency=currencies.most_common(1)[0][0] if currencies else None,
                        values=values, names=names, price_quantiles=quantiles,
                        words=dict(words.most_common(MAX_WORDS)),
                        type_genders={t: dict(counts) for t, counts in type_genders.items()},
                        type_occasions={t: dict(counts) for t, counts in type_occasions.items()})


class IndexStore:
    """Generations of one index, in any backend."""

    def __init__(self, root: Path, backend: IndexBackend):
        self.root = Path(root)
        self.backend = backend

    @property
    def _pointer(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        if not self._pointer.exists():
            return None
        path = self.root / self._pointer.read_text().strip()
        return path if (path / "meta.json").exists() else None

    def meta(self) -> IndexMeta | None:
        path = self.current()
        return IndexMeta.model_validate_json((path / "meta.json").read_text()) if path else None

    def stats(self) -> CatalogStats:
        path = self.current()
        if path is None or not (path / "stats.json").exists():
            return CatalogStats()
        return CatalogStats.model_validate_json((path / "stats.json").read_text())

    def open_reader(self) -> ProductIndex | None:
        """The live generation, opened for search (None before the first ingest)."""
        path, meta = self.current(), self.meta()
        return self.backend.open(path, meta.dimension) if path and meta else None

    def _generations(self) -> list[Path]:
        return sorted(p for p in self.root.glob("gen-*") if p.is_dir())

    def _sweep(self, keep: set[Path]) -> None:
        for path in self._generations():
            if path not in keep:
                shutil.rmtree(path, ignore_errors=True)

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """One writer at a time per index, across processes (a training run re-embedding beside the service's
        ingests): each would sweep the other's half-written generation."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".writer.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def transaction(self, model_id: str, dimension: int, fresh: bool = False, model_version: str | None = None,
                    new_model: bool = False, image_model: str | None = None) -> Iterator[ProductIndex]:
        """A writable copy of the live index; published atomically only if the block completes. new_model: the
        block gives every document a vector of `model_id` (a re-embedding), so the live one's model may differ.
        image_model: the block gives photos vectors of that image tower (else the live one's stays named).
        Writers queue (across processes too); readers never wait."""
        with self._writer():
            yield from self._transaction(model_id, dimension, fresh, model_version, new_model, image_model)

    def _transaction(self, model_id: str, dimension: int, fresh: bool, model_version: str | None,
                     new_model: bool, image_model: str | None) -> Iterator[ProductIndex]:
        live = self.current()
        live_meta = self.meta()
        if image_model is None and live_meta is not None and not fresh:
            image_model = live_meta.image_model
        if new_model and live_meta and live_meta.dimension != dimension:
            raise ValueError(f"index at {self.root} holds {live_meta.dimension}d vectors; a {dimension}d model "
                             "needs a fresh ingest")
        if live_meta and not fresh and not new_model and (live_meta.model_id != model_id
                                                          or live_meta.dimension != dimension):
            raise ValueError(f"index at {self.root} holds vectors of {live_meta.model_id} ({live_meta.dimension}d); "
                             f"the encoder is {model_id} ({dimension}d): rebuild it with a fresh ingest")
        self._sweep(keep={p for p in (live,) if p})  # leftovers of crashed writes
        number = (live_meta.generation if live_meta else 0) + 1
        target = self.root / f"gen-{number:06d}"
        if live and not fresh:
            self.backend.copy(live, target)
            index = self.backend.open(target, dimension)
        else:
            target.mkdir(parents=True)
            index = self.backend.create(target, dimension)
        try:
            yield index
            index.commit()
            stats = compute_stats(index)
        except BaseException:
            index.close()
            shutil.rmtree(target, ignore_errors=True)
            raise
        index.close()
        (target / "stats.json").write_text(stats.model_dump_json())
        meta = IndexMeta(model_id=model_id, dimension=dimension, count=stats.count, generation=number,
                         model_version=model_version, image_model=image_model)
        (target / "meta.json").write_text(meta.model_dump_json())
        _atomic_write(self._pointer, target.name)
        self._sweep(keep={target, *((live,) if live else ())})


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
