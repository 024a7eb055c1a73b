"""The embedded engine: Qdrant Edge in-process, one shard persisted in a directory."""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection, Iterator
from pathlib import Path
from uuid import UUID

import numpy as np
import orjson
import qdrant_edge as qe

from vitrina.heap import release_native
from vitrina.index.edge_layout import LAYOUT_FILE, MAIN_FILTER_FIELD, RESIDENT_KEY, FieldLayout
from vitrina.index.products import ProductStore
from vitrina.index.protocol import (
    FILTER_FIELDS,
    FLOAT_FIELDS,
    Condition,
    DimensionError,
    FilterError,
    FilterSpec,
    Flag,
    IndexDoc,
    Match,
    Scored,
    Space,
)

VECTOR = "dense"
IMAGE = "image"  # the photos' vectors, same space and dimension as the text's
NAMED: dict[str, str] = {"text": VECTOR, "image": IMAGE}
WITHOUT_VECTOR = qe.Filter(must_not=[qe.HasVectorCondition(VECTOR)])  # products whose vector comes later
TEXT = "text"
FACET_ALL = 1_000_000  # a folded key's facet counts every value of every field it holds


def to_qdrant_filter(spec: FilterSpec | None, layout: FieldLayout) -> qe.Filter | None:
    if spec is None or spec.is_empty():
        return None
    spec.check_fields()

    def condition(c: Condition):
        key = layout.keys[c.field]
        if isinstance(c, Match):
            return qe.FieldCondition(key=key, match=qe.MatchAny([layout.keyword(c.field, v) for v in c.values]))
        if isinstance(c, Flag):
            return qe.FieldCondition(key=key, match=qe.MatchAny([layout.keyword(c.field, c.value)]))
        return qe.FieldCondition(key=key, range=qe.RangeFloat(gte=c.gte, lte=c.lte))

    return qe.Filter(must=[condition(c) for c in spec.must] or None,
                     must_not=[condition(c) for c in spec.must_not] or None)


class EdgeIndex:
    """A generation directory: `shard/` (Qdrant Edge) and `products.sqlite` (ids and product records)."""

    def __init__(self, shard: qe.EdgeShard, products: ProductStore, dimension: int, layout: FieldLayout,
                 hnsw_ef: int = 128, spaces: tuple[str, ...] = ("text", "image"), segment_points: int | None = None):
        self._shard = shard
        self._layout = layout
        self._segment_points = segment_points  # index a segment once this many points were written to it
        self._appended = 0
        self._products = products
        self._dimension = dimension
        self._params = qe.SearchParams(hnsw_ef=hnsw_ef)
        self._spaces = spaces  # a generation made before photos had a space has the text one only

    @staticmethod
    def _config(dimension: int, spaces: tuple[str, ...], datatype: str | None = None, **options) -> qe.EdgeConfig:
        stored = {"float16": qe.VectorStorageDatatype.Float16, "float32": qe.VectorStorageDatatype.Float32}
        # Text vectors are read by every search: kept in memory. Photo vectors only by searches that use photos,
        # and a catalog without photos still has room for them: left on disk until read (1.5 GB at 1M products
        # resident otherwise).
        memory = {"text": qe.Memory.Cached, "image": qe.Memory.Cold}
        return qe.EdgeConfig(vectors={NAMED[s]: qe.EdgeVectorParams(
            size=dimension, distance=qe.Distance.Cosine, datatype=stored[datatype] if datatype else None,
            memory=memory[s] if datatype else None) for s in spaces}, wal_enabled=False, **options)

    def _named(self, space: Space) -> str:
        if space not in self._spaces:
            raise DimensionError(f"this index generation has no {space} vectors (made by an older Vitrina): "
                                 "rebuild it with `vitrina ingest --fresh`")
        return NAMED[space]

    @classmethod
    def create(cls, path: Path, dimension: int, search_threads: int = 1, hnsw_ef: int = 128,
               datatype: str = "float16", resident: Collection[str] | None = None,
               segment_points: int | None = None) -> EdgeIndex:
        """`resident`: the filter fields whose indexes stay on the heap (None: all); the others are mapped from
        disk and read as filters touch them. `segment_points`: build the index in segments of at most this many
        points, each indexed as soon as it is full and never merged (None: one segment)."""
        unknown = set(resident or ()) - set(FILTER_FIELDS)
        if unknown:
            raise FilterError(f"resident filter fields {sorted(unknown)} are not filter fields; "
                              f"filter fields: {', '.join(sorted(FILTER_FIELDS))}")
        # No WAL: a generation is written once and published after flush(), and without a WAL lock any
        # number of readers (CLI, server, tests) can open the same published generation.
        options = {}
        if segment_points:
            # In KB of vectors: one full segment fits (float16 or float32), two full ones do not, so the
            # optimizer never merges them back into one big build; a quarter full is worth indexing.
            kb = max(4, segment_points * dimension * 3 // 1024)
            options["optimizers"] = qe.EdgeOptimizersConfig(max_segment_size=kb, indexing_threshold=kb // 4)
        config = cls._config(dimension, ("text", "image"), datatype, on_disk_payload=True,
                             max_search_threads=search_threads, **options)
        shard = qe.EdgeShard.create(str(path / "shard"), config)
        # Payload indexes before any point: building them later would rebuild the HNSW graph.
        shard.update(qe.UpdateOperation.create_field_index(TEXT, qe.TextIndexParams(
            tokenizer=qe.TokenizerType.Word, lowercase=True, ascii_folding=True,
            stemmer=qe.SnowballParams(qe.SnowballLanguage.English), stopwords=qe.Language.English,
            scoring=True, enable_hnsw=False)))

        layout = FieldLayout.folded(resident)
        layout.save(path)

        def memory(name: str) -> qe.Memory:
            return qe.Memory.Pinned if resident is None or name in resident else qe.Memory.Cold

        for key, held in layout.indexed_keys().items():
            pinned = key == RESIDENT_KEY or any(resident is None or name in resident for name in held)
            keyword = qe.KeywordIndexParams(enable_hnsw=key == MAIN_FILTER_FIELD,
                                            memory=qe.Memory.Pinned if pinned else qe.Memory.Cold)
            shard.update(qe.UpdateOperation.create_field_index(key, keyword))
        for name in FLOAT_FIELDS:
            number = qe.FloatIndexParams(enable_hnsw=False, memory=memory(name))
            shard.update(qe.UpdateOperation.create_field_index(name, number))
        return cls(shard, ProductStore(path / "products.sqlite"), dimension, layout, hnsw_ef,
                   segment_points=segment_points)

    @classmethod
    def load(cls, path: Path, dimension: int, search_threads: int = 1, hnsw_ef: int = 128,
             segment_points: int | None = None) -> EdgeIndex:
        # Opened with the vector spaces and storage it was made with (a generation made before photos had a
        # space has the text one only; one made before float16 storage holds float32), this process's threads.
        made = json.loads((path / "shard" / "edge_config.json").read_text())["vectors"]
        spaces = tuple(s for s in ("text", "image") if NAMED[s] in made)
        datatype = made[VECTOR].get("datatype")
        shard = qe.EdgeShard.load(str(path / "shard"), cls._config(dimension, spaces, datatype,
                                                                   max_search_threads=search_threads))
        return cls(shard, ProductStore(path / "products.sqlite"), dimension, FieldLayout.load(path), hnsw_ef, spaces,
                   segment_points)

    # --- writes ---
    def upsert(self, docs: list[IndexDoc]) -> None:
        if not docs:
            return
        numbers = self._products.numbers([d.id for d in docs], assign=True)
        points = []
        for doc in docs:
            payload = self._layout.payload(doc.fields)
            payload.update(text=doc.text)
            vector: dict[str, list[float] | qe.SparseVector | list[list[float]]] = (
                {VECTOR: doc.vector} if doc.vector is not None else {})
            if doc.image_vector is not None:
                vector[self._named("image")] = doc.image_vector
            points.append(qe.Point(id=numbers[doc.id], vector=vector, payload=payload))
        self._shard.update(qe.UpdateOperation.upsert_points(points))
        self._products.put([(numbers[d.id], d.id, d.product) for d in docs])
        self._appended += len(points)
        if self._segment_points and self._appended >= self._segment_points:
            # The segment being written is full: index it now, so each HNSW build covers one segment, and hand
            # the build's freed memory back before the next (the peak still grows with the catalog: README).
            self._shard.optimize()
            release_native()
            self._appended = 0

    def ids(self) -> Iterator[str]:
        return self._products.pids()

    def set_vectors(self, vectors: dict[str, np.ndarray], space: Space = "text") -> None:
        name = self._named(space)
        numbers = self._products.numbers(list(vectors))
        for pid, vector in vectors.items():
            if len(vector) != self._dimension:
                raise DimensionError(f"document {pid}: a {len(vector)}-d vector for {self._dimension}-d")
        points = [qe.PointVectors(id=num, vector={name: [float(x) for x in vectors[pid]]})
                  for pid, num in numbers.items()]
        if points:
            self._shard.update(qe.UpdateOperation.update_vectors(points))

    def missing_vectors(self, limit: int) -> list[str]:
        records, _ = self._shard.scroll(qe.ScrollRequest(limit=limit, filter=WITHOUT_VECTOR, with_payload=False,
                                                         with_vector=False))
        pids = self._products.pids_of([int(r.id) for r in records])
        return [pids[int(r.id)] for r in records if int(r.id) in pids]

    def count_missing_vectors(self) -> int:
        return self._shard.count(qe.CountRequest(filter=WITHOUT_VECTOR, exact=True))

    def count_vectors(self, space: Space) -> int:
        if space not in self._spaces:
            return 0
        return self._shard.count(qe.CountRequest(filter=qe.Filter(must=[qe.HasVectorCondition(NAMED[space])]),
                                                 exact=True))

    def delete(self, ids: list[str]) -> None:
        numbers = list(self._products.numbers(ids).values())
        if numbers:
            self._shard.update(qe.UpdateOperation.delete_points(list[int | UUID | str](numbers)))
            self._products.remove(numbers)

    def commit(self) -> None:
        self._shard.optimize()  # builds the HNSW graph: searches before it run brute force
        self._shard.flush()

    def close(self) -> None:
        self._shard.close()
        self._products.close()

    # --- reads ---
    def _scored(self, points) -> list[Scored]:
        pids = self._products.pids_of([p.id for p in points])
        return [Scored(id=pids[p.id], score=float(p.score)) for p in points if p.id in pids]

    def bm25(self, text: str, k: int, where: FilterSpec | None = None) -> list[Scored]:
        if not text.strip() or k <= 0:
            return []
        request = qe.QueryRequest(limit=k, query=qe.TextQuery(TEXT, text), filter=to_qdrant_filter(where, self._layout),
                                  with_payload=False)
        return self._scored(self._shard.query(request))

    def knn(self, vector: np.ndarray, k: int, where: FilterSpec | None = None, space: Space = "text") -> list[Scored]:
        if len(vector) != self._dimension:
            raise DimensionError(f"a {len(vector)}-d vector for an index of {self._dimension}-d vectors")
        if k <= 0 or space not in self._spaces:
            return []
        request = qe.QueryRequest(limit=k, query=qe.Query.Nearest([float(x) for x in vector], using=NAMED[space]),
                                  filter=to_qdrant_filter(where, self._layout), params=self._params, with_payload=False)
        return self._scored(self._shard.query(request))

    def get(self, ids: list[str], with_vectors: bool | set[str] = False,
            space: Space = "text") -> dict[str, tuple[dict, np.ndarray | None]]:
        docs = self._products.by_ids(ids) if ids else {}
        if not docs:
            return {}
        vectors: dict[int, np.ndarray] = {}
        wanted: list[int | UUID | str] = [num for pid, (num, _) in docs.items()
                                   if with_vectors is True or (isinstance(with_vectors, set) and pid in with_vectors)]
        if wanted and space in self._spaces:
            name = NAMED[space]
            for r in self._shard.retrieve(wanted, with_payload=False, with_vector=[name]):
                named = r.vector if isinstance(r.vector, dict) else {}
                if named.get(name) is not None:  # a product whose vector comes later (or has no photo) has none
                    vectors[int(r.id)] = np.asarray(named[name], dtype=np.float32)
        return {pid: (orjson.loads(doc), vectors.get(num)) for pid, (num, doc) in docs.items()}

    def cosines(self, vector: np.ndarray, ids: list[str], space: Space = "text") -> dict[str, float]:
        # Scored inside the shard, exactly, over just these points: handing their vectors to Python cost ~2 ms
        # for 80 products at 1M, this ~0.4 ms.
        numbers = self._products.numbers(ids)
        if not numbers or space not in self._spaces:
            return {}
        pid_of = {num: pid for pid, num in numbers.items()}
        request = qe.QueryRequest(limit=len(numbers), query=qe.Query.Nearest([float(x) for x in vector],
                                                                               using=NAMED[space]),
                                  filter=qe.Filter(must=[qe.HasIdCondition(set(numbers.values()))]),
                                  params=qe.SearchParams(exact=True), with_payload=False)
        return {pid_of[int(p.id)]: float(p.score) for p in self._shard.query(request)}

    def count(self, where: FilterSpec | None = None) -> int:
        return self._shard.count(qe.CountRequest(filter=to_qdrant_filter(where, self._layout), exact=True))

    def facet(self, field: str, where: FilterSpec | None = None, limit: int = 20) -> list[tuple[str, int]]:
        return self.facets([field], where, limit)[field]

    def facets(self, fields: list[str], where: FilterSpec | None = None,
               limit: int = 20) -> dict[str, list[tuple[str, int]]]:
        # One facet call per payload key: the folded fields share one, whose call counts all their values at once
        # (at 100k products a call took ~55 ms, whichever of its fields was asked for).
        condition = to_qdrant_filter(where, self._layout)
        out: dict[str, list[tuple[str, int]]] = {}
        for key in self._layout.keys_for(fields):
            folded = [f for f in fields if self._layout.keys.get(f, f) == key and f != key]
            response = self._shard.facet(qe.FacetRequest(key=key, limit=FACET_ALL if folded else limit, exact=True,
                                                         filter=condition))
            counts = [(str(h.value), int(h.count)) for h in response]
            for name in folded or [key]:
                mine = counts if not folded else [
                    (value, n) for stored, n in counts if (value := self._layout.value_of(name, stored)) is not None]
                out[name] = sorted(mine, key=lambda vc: (-vc[1], vc[0]))[:limit]
        return out

    def payloads(self, fields: list[str], batch: int = 2048) -> Iterator[dict]:
        """Every point's payload, restricted to `fields`."""
        offset = None
        while True:
            records, offset = self._shard.scroll(qe.ScrollRequest(
                offset=offset, limit=batch, with_payload=self._layout.keys_for(fields), with_vector=False))
            for r in records:
                yield self._layout.unfold(r.payload or {}, fields)
            if offset is None:
                return


class EdgeBackend:
    """Qdrant Edge generations: `shard/` plus `products.sqlite`."""

    name = "edge"

    def __init__(self, search_threads: int = 1, hnsw_ef: int = 128, datatype: str = "float16",
                 resident: Collection[str] | None = None, segment_points: int | None = None):
        self.search_threads = search_threads
        self.hnsw_ef = hnsw_ef
        self.datatype = datatype
        self.resident = resident
        self.segment_points = segment_points

    def create(self, path: Path, dimension: int) -> EdgeIndex:
        return EdgeIndex.create(path, dimension, self.search_threads, self.hnsw_ef, self.datatype,
                                self.resident, self.segment_points)

    def open(self, path: Path, dimension: int) -> EdgeIndex:
        return EdgeIndex.load(path, dimension, self.search_threads, self.hnsw_ef, self.segment_points)

    def copy(self, source: Path, target: Path) -> None:
        target.mkdir(parents=True)
        shutil.copytree(source / "shard", target / "shard")
        if (source / LAYOUT_FILE).exists():
            shutil.copy2(source / LAYOUT_FILE, target / LAYOUT_FILE)
        products = ProductStore(source / "products.sqlite")
        products.copy_to(target / "products.sqlite")
        products.close()
