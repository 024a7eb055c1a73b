"""The in-memory reference backend: plain Python and numpy, exact search, the contract's semantics by definition.

Not for large catalogs (knn is brute force, BM25 walks postings in Python); for tests, small shops, and as the
reference any other backend is checked against. A generation persists as `memory/docs.jsonl` + `vectors.npy`.
"""

from __future__ import annotations

import math
import re
import shutil
import unicodedata
from collections import Counter
from collections.abc import Iterator
from functools import cache, partial
from pathlib import Path

import numpy as np
import orjson
import Stemmer

from vitrina.index.protocol import (
    DimensionError,
    FilterSpec,
    IndexDoc,
    Scored,
    Space,
)

K1, B = 1.2, 0.75  # the usual BM25 parameters (Qdrant's too)
# English stop words, as the Edge backend's text index drops them.
STOPWORDS = frozenset("""a an and are as at be but by for if in into is it no not of on or such that the their then
there these they this to was will with""".split())
_WORD = re.compile(r"\w+")


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokens(text: str) -> list[str]:
    """Lower case, accents folded, stop words dropped, Snowball-stemmed."""
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return _stemmer().stemWords([w for w in _WORD.findall(folded) if w not in STOPWORDS])


class MemoryIndex:
    def __init__(self, dimension: int, path: Path | None = None):
        self._dimension = dimension
        self._path = path
        self._docs: dict[str, IndexDoc] = {}
        self._terms: dict[str, Counter[str]] = {}  # id -> term frequencies
        self._vectors: dict[str, np.ndarray] = {}
        self._images: dict[str, np.ndarray] = {}

    # --- writes ---
    def upsert(self, docs: list[IndexDoc]) -> None:
        for doc in docs:
            if doc.vector is not None and len(doc.vector) != self._dimension:
                raise DimensionError(f"document {doc.id}: a {len(doc.vector)}-d vector for {self._dimension}-d")
            self._docs[doc.id] = doc
            self._terms[doc.id] = Counter(tokens(doc.text))
            self._vectors.pop(doc.id, None)
            self._images.pop(doc.id, None)
            if doc.vector is not None:
                self.set_vectors({doc.id: np.asarray(doc.vector, dtype=np.float32)})
            if doc.image_vector is not None:
                self.set_vectors({doc.id: np.asarray(doc.image_vector, dtype=np.float32)}, "image")

    def ids(self) -> Iterator[str]:
        return iter(list(self._docs))

    def set_vectors(self, vectors: dict[str, np.ndarray], space: Space = "text") -> None:
        stored = self._space(space)
        for pid, vector in vectors.items():
            if pid in self._docs:
                if len(vector) != self._dimension:
                    raise DimensionError(f"document {pid}: a {len(vector)}-d vector for {self._dimension}-d")
                stored[pid] = _unit(vector)

    def _space(self, space: Space) -> dict[str, np.ndarray]:
        return self._images if space == "image" else self._vectors

    def count_vectors(self, space: Space) -> int:
        return len(self._space(space))

    def missing_vectors(self, limit: int) -> list[str]:
        return sorted(pid for pid in self._docs if pid not in self._vectors)[:limit]

    def count_missing_vectors(self) -> int:
        return len(self._docs) - len(self._vectors)

    def delete(self, ids: list[str]) -> None:
        for pid in ids:
            self._docs.pop(pid, None)
            self._terms.pop(pid, None)
            self._vectors.pop(pid, None)
            self._images.pop(pid, None)

    def commit(self) -> None:
        if self._path is None:
            return
        folder = self._path / "memory"
        folder.mkdir(parents=True, exist_ok=True)
        ids = list(self._docs)
        with open(folder / "docs.jsonl", "wb") as handle:
            for pid in ids:
                handle.write(orjson.dumps(self._docs[pid].model_dump(exclude={"vector", "image_vector"})) + b"\n")
        nothing = np.full(self._dimension, np.nan, dtype=np.float32)  # a row of NaN: no vector (yet)
        for name, stored in (("vectors.npy", self._vectors), ("images.npy", self._images)):
            matrix = np.stack([stored.get(i, nothing) for i in ids]) if ids else np.zeros((0, self._dimension),
                                                                                            np.float32)
            np.save(folder / name, matrix)

    def close(self) -> None:
        self._docs.clear()

    @classmethod
    def load(cls, path: Path, dimension: int) -> MemoryIndex:
        index = cls(dimension, path)
        folder = path / "memory"
        if not (folder / "docs.jsonl").exists():
            return index
        matrix = np.load(folder / "vectors.npy")
        with open(folder / "docs.jsonl", "rb") as handle:
            records = [orjson.loads(line) for line in handle]
        images = np.load(folder / "images.npy") if (folder / "images.npy").exists() else np.full_like(matrix, np.nan)
        index.upsert([IndexDoc(**r, vector=_row(row), image_vector=_row(image))
                      for r, row, image in zip(records, matrix, images, strict=True)])
        return index

    # --- reads ---
    def _passing(self, where: FilterSpec | None) -> list[str]:
        if where is None or where.is_empty():
            return list(self._docs)
        where.check_fields()
        return [pid for pid, doc in self._docs.items() if where.matches(partial(_values, doc))]

    def bm25(self, text: str, k: int, where: FilterSpec | None = None) -> list[Scored]:
        query = set(tokens(text))
        if not query or k <= 0:
            return []
        candidates = self._passing(where)
        total = len(self._docs)
        if not total:
            return []
        df = Counter(t for tf in self._terms.values() for t in query if t in tf)
        avg = sum(sum(tf.values()) for tf in self._terms.values()) / total
        scored = []
        for pid in candidates:
            tf = self._terms[pid]
            length = sum(tf.values())
            score = 0.0
            for term in query & tf.keys():
                idf = math.log(1 + (total - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * tf[term] * (K1 + 1) / (tf[term] + K1 * (1 - B + B * length / avg))
            if score > 0:
                scored.append(Scored(id=pid, score=score))
        return sorted(scored, key=lambda s: (-s.score, s.id))[:k]

    def knn(self, vector: np.ndarray, k: int, where: FilterSpec | None = None, space: Space = "text") -> list[Scored]:
        if len(vector) != self._dimension:
            raise DimensionError(f"a {len(vector)}-d vector for an index of {self._dimension}-d vectors")
        stored = self._space(space)
        ids = [i for i in self._passing(where) if i in stored]
        if not ids or k <= 0:
            return []
        scores = np.stack([stored[i] for i in ids]) @ _unit(vector)
        order = sorted(range(len(ids)), key=lambda j: (-scores[j], ids[j]))[:k]
        return [Scored(id=ids[j], score=float(scores[j])) for j in order]

    def get(self, ids: list[str], with_vectors: bool | set[str] = False,
            space: Space = "text") -> dict[str, tuple[dict, np.ndarray | None]]:
        out: dict[str, tuple[dict, np.ndarray | None]] = {}
        stored = self._space(space)
        for pid in ids:
            doc = self._docs.get(pid)
            if doc is not None:
                wanted = with_vectors is True or (isinstance(with_vectors, set) and pid in with_vectors)
                out[pid] = (doc.product, stored.get(pid) if wanted else None)
        return out

    def cosines(self, vector: np.ndarray, ids: list[str], space: Space = "text") -> dict[str, float]:
        stored = self._space(space)
        query = _unit(vector)
        return {pid: float(stored[pid] @ query) for pid in ids if pid in stored}

    def count(self, where: FilterSpec | None = None) -> int:
        return len(self._passing(where))

    def facet(self, field: str, where: FilterSpec | None = None, limit: int = 20) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for pid in self._passing(where):
            counts.update(set(_values(self._docs[pid], field)))
        return sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:limit]

    def facets(self, fields: list[str], where: FilterSpec | None = None,
               limit: int = 20) -> dict[str, list[tuple[str, int]]]:
        return {field: self.facet(field, where, limit) for field in fields}

    def payloads(self, fields: list[str]) -> Iterator[dict]:
        for doc in self._docs.values():
            stored = {**doc.fields, "text": doc.text}
            yield {f: stored[f] for f in fields if stored.get(f) not in (None, [])}


def _unit(vector: np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / max(float(np.linalg.norm(array)), 1e-12)


def _row(row: np.ndarray) -> list[float] | None:
    return None if np.isnan(row).any() else row.tolist()


def _values(doc: IndexDoc, field: str) -> list:
    value = doc.fields.get(field)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class MemoryBackend:
    name = "memory"

    def create(self, path: Path, dimension: int) -> MemoryIndex:
        return MemoryIndex(dimension, path)

    def open(self, path: Path, dimension: int) -> MemoryIndex:
        return MemoryIndex.load(path, dimension)

    def copy(self, source: Path, target: Path) -> None:
        shutil.copytree(source / "memory", target / "memory")


