"""What `vitrina demo` shows: a few thousand real fashion products with their thumbnails when the shared datasets
are there, the generated sample (with drawn images) otherwise; and the built-in queries, each with what it asks
for, so a test holds the demo to them on the catalog it runs on.

The real selection takes, for each built-in query, products the catalog's own fields say answer it (so the
demo's catalog holds answers to its own queries), then fills up round-robin over product types in catalog
order, so every kind of product the shop sells shows up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from pydantic import BaseModel, Field

from vitrina.catalog.feeds import read_jsonl
from vitrina.catalog.myntra import product_type_of, row_id
from vitrina.catalog.product import Product
from vitrina.catalog.registry import make_feed
from vitrina.catalog.validate import validate_rows

REAL_SIZE = 1500  # 142 product types, a median of 12 each: a first run encodes them in two minutes on 2 cores
ANSWERS_PER_QUERY = 12


class Asked(BaseModel):
    """What a query asks for, in the catalog's own field values. Hard (types, genders, price): the hits must hold
    it as far as the catalog has products that do. Soft (colours): the first hit must, where one exists."""
    types: list[str] = Field(default_factory=list)
    genders: list[str] = Field(default_factory=list)
    price_max: float | None = None
    colours: list[str] = Field(default_factory=list)

    def misses(self, product: dict, first: bool) -> list[str]:
        why = []
        if self.types and product.get("product_type") not in self.types:
            why.append(f"type {product.get('product_type')} is not {self.types}")
        if self.genders and product.get("gender") not in self.genders:
            why.append(f"gender {product.get('gender')} is not {self.genders}")
        if self.price_max is not None and (product.get("price") or 0) > self.price_max:
            why.append(f"price {product.get('price')} is over {self.price_max}")
        if first and self.colours and not set(product.get("colors") or []) & set(self.colours):
            why.append(f"colours {product.get('colors')} are not {self.colours}")
        return why


class DemoQuery(BaseModel):
    query: str
    history: list[str] = Field(default_factory=list)
    asked: Asked


REAL_QUERIES = [
    DemoQuery(query="navy shirt for men under 1500",
              asked=Asked(types=["Shirts"], genders=["men"], price_max=1500, colours=["Navy Blue"])),
    DemoQuery(query="black dress for a party", asked=Asked(types=["Dresses"], colours=["Black"])),
    DemoQuery(query="white sneakers for women",
              asked=Asked(types=["Casual Shoes", "Sports Shoes"], genders=["women"], colours=["White", "Off White"])),
    DemoQuery(query="under 2000", history=["white sneakers for women"],
              asked=Asked(types=["Casual Shoes", "Sports Shoes"], genders=["women"], price_max=2000,
                          colours=["White", "Off White"])),
    DemoQuery(query="red kurta for women", asked=Asked(types=["Kurtas", "Kurta Sets"], genders=["women"], colours=["Red"])),
    DemoQuery(query="formal shoes for men under 3000",
              asked=Asked(types=["Formal Shoes"], genders=["men"], price_max=3000)),
]
SAMPLE_QUERIES = [
    DemoQuery(query="navy shirt for men under 60",
              asked=Asked(types=["Shirts"], genders=["men"], price_max=60, colours=["Navy Blue"])),
    DemoQuery(query="warm jacket for the office under $150", asked=Asked(types=["Jackets", "Blazers"], price_max=150)),
    DemoQuery(query="white sneakers for women",
              asked=Asked(types=["Casual Shoes", "Sports Shoes"], genders=["women"], colours=["White", "Off White"])),
    DemoQuery(query="under 70", history=["white sneakers for women"],
              asked=Asked(types=["Casual Shoes", "Sports Shoes"], genders=["women"], price_max=70)),
    DemoQuery(query="red dress not short", asked=Asked(types=["Dresses"], colours=["Red"])),
    DemoQuery(query="leather boots for men", asked=Asked(types=["Boots"], genders=["men"])),
]


class _LazyRows:
    """A feed's rows as validate_rows would give them (a Product, or None for a row it rejects, a repeated id among
    them), each mapped and validated only when asked for: a selection needs a few thousand of the 44k, and mapping
    them all took ~25 s."""

    def __init__(self, catalog: Path):
        self.feed = make_feed("myntra")
        # Unreadable rows are rejected ones: left out here.
        self.rows = [(n, record, None) for n, record, _ in read_jsonl(catalog) if record is not None]
        self.records = [record for _, record, _ in self.rows]
        self._checked: dict[int, Product | None] = {}
        self._rows_of_id: dict[str, list[int]] = defaultdict(list)
        for i, record in enumerate(self.records):
            self._rows_of_id[row_id(record)].append(i)

    def _valid(self, i: int) -> Product | None:
        """The row's Product where it maps and validates, whatever rows before it hold."""
        if i not in self._checked:
            found = next(validate_rows(self.feed.map_records([self.rows[i]])))
            self._checked[i] = found if isinstance(found, Product) else None
        return self._checked[i]

    def product(self, i: int) -> Product | None:
        """The row's Product, or None where it is invalid or an earlier valid row has its id (a duplicate)."""
        product = self._valid(i)
        if product is None or any(self._valid(j) is not None for j in self._rows_of_id[product.id] if j < i):
            return None
        return product

    def rows_by_type(self) -> dict[str, list[int]]:
        """Row positions per product type, the types in the order their first valid product comes in the feed."""
        rows: dict[str, list[int]] = defaultdict(list)
        for i, record in enumerate(self.records):
            rows[product_type_of(record) or ""].append(i)
        first = {kind: next((i for i in at if self.product(i) is not None), -1) for kind, at in rows.items()}
        return {kind: rows[kind] for kind in sorted((k for k in rows if first[k] >= 0), key=first.__getitem__)}


def real_selection(catalog: Path, size: int = REAL_SIZE, queries: Iterable[DemoQuery] = REAL_QUERIES,
                   per_query: int = ANSWERS_PER_QUERY) -> list[Product]:
    """Products of the real fashion feed: answers to each query first, then round-robin over types (each in feed
    order, the types in the order they first come)."""
    rows = _LazyRows(catalog)
    by_type = rows.rows_by_type()
    chosen: dict[str, Product] = {}
    for demo in queries:
        candidates = sorted(i for kind in demo.asked.types for i in by_type.get(kind, [])) if demo.asked.types \
            else range(len(rows.records))
        answering = (p for p in map(rows.product, candidates)
                     if p is not None and not demo.asked.misses(p.model_dump(), first=True))
        for product in islice(answering, per_query):
            chosen.setdefault(product.id, product)
    fill_by_turns(chosen, [(p for p in map(rows.product, at) if p is not None) for at in by_type.values()], size)
    return list(chosen.values())


def fill_by_turns(chosen: dict[str, Product], queues: list[Iterator[Product]], size: int) -> None:
    """Up to `size` products in `chosen`: the next of each queue in turn, skipping those already in."""
    while len(chosen) < size and queues:
        for queue in list(queues):
            following = next(queue, None)
            if following is None:
                queues.remove(queue)
            elif len(chosen) < size:
                chosen.setdefault(following.id, following)
