"""Where each filter field lives in a Qdrant Edge generation's payload.

Every payload index costs a pass over all payloads when a segment is optimised (each decodes every point's JSON
payload), and a map per point while it is written. With one index per filter field (21), the optimise step at 100k
products was mostly that decoding and its malloc (perf); folded, HNSW + publish took 33.5 -> 17.9 s and indexing
ran 1.48x faster (bench/results/ingest-layout.md). So the keyword and flag fields other than the
product type are folded into one multi-valued keyword field of "field=value" strings (as Elasticsearch's
flattened fields do): a filter on colours is a match on "colors=black". Two folded fields, one kept on the heap
and one mapped from disk, keep `resident_filter_fields` meaningful. The product type keeps its own index (its
values get payload-aware HNSW links), and numbers keep theirs (ranges).

The gender keeps its own index too: with the type and the price it is what the engine's own query filters use
(the one hard vocabulary), and Qdrant Edge checks a BM25 candidate against a keyword filter by scanning the
point's values of that key: ~12 in the folded field, one in its own. At 200k products, BM25 under a gender filter
took 6.7 ms folded and 1.8 ms with its own index (indexing 114 vs 116 s); at 1M the build paid a little (one run
each: 1,973 -> 1,918 products/s, anonymous peak 3.2 -> 4.1 GB) for ~20 ms less BM25 under a gender filter.

A generation records its layout in layout.json; one without it (made before folding) has a field per filter.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from vitrina.index.documents import LIST_KINDS
from vitrina.index.protocol import BOOL_FIELDS, FILTER_FIELDS, FLOAT_FIELDS

MAIN_FILTER_FIELD = "type"  # the one field whose values get payload-aware HNSW links
OWN_INDEX_FIELDS = (MAIN_FILTER_FIELD, "gender")  # never folded: the engine's own query filters use them
RESIDENT_KEY, MAPPED_KEY = "attrs", "attrs_mapped"
LAYOUT_FILE = "layout.json"


class FieldLayout:
    def __init__(self, keys: dict[str, str]):
        self.keys = keys  # filter field -> the payload key that holds it (the field itself where not folded)

    @classmethod
    def folded(cls, resident: Collection[str] | None) -> FieldLayout:
        """`resident`: the fields whose index stays on the heap (None: all)."""
        keys = {}
        for name in FILTER_FIELDS:
            if name in OWN_INDEX_FIELDS or name in FLOAT_FIELDS:
                keys[name] = name
            else:
                keys[name] = RESIDENT_KEY if resident is None or name in resident else MAPPED_KEY
        return cls(keys)

    @classmethod
    def load(cls, generation: Path) -> FieldLayout:
        path = generation / LAYOUT_FILE
        if not path.exists():
            return cls({name: name for name in FILTER_FIELDS})
        # A field added to the table after this generation was made is in none of its payloads: filtering on it
        # excludes nothing (must_not) or keeps nothing (must), as for any product without the field.
        return cls({name: name for name in FILTER_FIELDS} | json.loads(path.read_text()))

    def save(self, generation: Path) -> None:
        (generation / LAYOUT_FILE).write_text(json.dumps(self.keys, indent=1))

    def is_folded(self, name: str) -> bool:
        return self.keys[name] != name

    def indexed_keys(self) -> dict[str, list[str]]:
        """Each keyword payload key to index, with the filter fields it holds."""
        indexed: dict[str, list[str]] = {}
        for name, key in self.keys.items():
            if name not in FLOAT_FIELDS:
                indexed.setdefault(key, []).append(name)
        return indexed

    def keyword(self, name: str, value: object) -> str:
        """A value as the payload holds it, folded ones as 'field=value'. Booleans are stored and matched as the
        keywords "true" / "false": qdrant-edge-py 0.9.0 passes MatchValue(True) on as the integer 1, which matches
        no boolean payload."""
        word = ("true" if value is True else "false") if name in BOOL_FIELDS else str(value)
        return f"{name}={word}" if self.is_folded(name) else word

    def payload(self, fields: Mapping[str, object]) -> dict[str, object]:
        """An index document's fields (filter fields and others) as the payload stores them."""
        out: dict[str, object] = {}
        for name, value in fields.items():
            if value is None or value == []:
                continue
            if name not in self.keys:
                out[name] = value
            elif self.is_folded(name):
                folded = out.setdefault(self.keys[name], [])
                assert isinstance(folded, list)
                folded.extend(self.keyword(name, v) for v in (value if isinstance(value, list) else [value]))
            else:
                out[name] = self.keyword(name, value) if name in BOOL_FIELDS else value
        return out

    def keys_for(self, fields: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(self.keys.get(f, f) for f in fields))

    def unfold(self, payload: dict, fields: Iterable[str]) -> dict:
        """The `fields` of a stored payload, folded ones back in their own shape (a list or one value)."""
        out = {}
        for name in fields:
            if name in self.keys and self.is_folded(name):
                values = self.values_of(name, payload.get(self.keys[name]) or [])
                if values:
                    out[name] = values if name in LIST_KINDS else values[0]
            elif name in payload:
                out[name] = payload[name]
        return out

    def values_of(self, name: str, folded: Iterable[str]) -> list[str]:
        """The values of one field among a folded key's 'field=value' strings."""
        return [value for v in folded if (value := self.value_of(name, v)) is not None]

    @staticmethod
    def value_of(name: str, stored: str) -> str | None:
        """The value of a folded 'field=value' string if it is one of `name`'s, else None."""
        field, _, value = stored.partition("=")
        return value if field == name else None
