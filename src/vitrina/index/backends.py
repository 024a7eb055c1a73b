"""Index backends by name: one table, no import side effects. Another package adds one through the
`vitrina.index_backends` entry point group (a callable taking Settings, returning an IndexBackend)."""

from __future__ import annotations

from collections.abc import Callable

from vitrina.config import Settings
from vitrina.index.edge import EdgeBackend
from vitrina.index.memory import MemoryBackend
from vitrina.index.protocol import IndexBackend
from vitrina.plugins import find

BACKENDS: dict[str, Callable[[Settings], IndexBackend]] = {
    "edge": lambda s: EdgeBackend(s.search_threads, s.retrieval.hnsw_ef, s.retrieval.vector_datatype,
                                  s.retrieval.resident_filter_fields, s.retrieval.segment_products),
    "memory": lambda s: MemoryBackend(),
}


def make_backend(settings: Settings) -> IndexBackend:
    return find(BACKENDS, settings.index_backend, "vitrina.index_backends", "index backend")(settings)
