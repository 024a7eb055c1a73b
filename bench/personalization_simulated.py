"""Personalisation with simulated shoppers who have a brand, a colour and a price range they prefer (fashion set).

Each shopper (seeded) has a gender, a favourite brand, a favourite colour family and a price band (the lower,
middle or upper third of each product type's prices). Their history is 8 interactions over 60 days (3 clicks,
2 add-to-carts, 3 purchases) on adult products of their gender, each chosen with each preference holding with
probability 0.75 (a shopper is loyal, not rigid); the events go through the service's event store, and the profile
is read back from it as the service does. Then the shopper searches "<gender> <product type>" for a type that has
products matching all three preferences (not ones already in their history): those are what they would buy.
Hit rate@10 and MRR (top 100) of any such product, with the profile and without; the share of the top 10 of the
asked type shows the query still decides (personalisation re-orders, it does not change what is asked).

    python bench/personalization_simulated.py     # writes bench/results/personalization-simulated.{json,md}
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fashion_set import fashion_engine

from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.events.db import connect
from vitrina.events.models import Event
from vitrina.events.store import EventStore
from vitrina.personalize.store import recent_interactions
from vitrina.vision.colour import product_family

RESULTS = Path("bench/results")
ROOT = Path("data/bench/simulated-shoppers")
SHOPPERS, DEPTH, LOYALTY, SEED = 500, 100, 0.75, 0
HISTORY = ["click"] * 3 + ["add_to_cart"] * 2 + ["purchase"] * 3
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def price_bands(records: list[dict]) -> dict[str, int]:
    """product id -> 0, 1 or 2: the third of its type's prices it falls in."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_type[record["product_type"]].append(record)
    bands = {}
    for rows in by_type.values():
        rows.sort(key=lambda r: r["price"])
        for i, record in enumerate(rows):
            bands[record["id"]] = min(2, 3 * i // len(rows))
    return bands


class Shopper:
    def __init__(self, name: str, gender: str, brand: str, colour: str, band: int):
        self.name, self.gender, self.brand, self.colour, self.band = name, gender, brand, colour, band

    def likes(self, record: dict, bands: dict[str, int], which: tuple[bool, bool, bool] = (True, True, True)) -> bool:
        brand, colour, band = which
        return ((not brand or str(record.get("brand")).lower() == self.brand)
                and (not colour or product_family(record) == self.colour)
                and (not band or bands[record["id"]] == self.band))


def make_shoppers(records: list[dict], rng: random.Random) -> list[Shopper]:
    """Brands and colours drawn as often as the catalog carries them (for the shopper's gender)."""
    shoppers = []
    for n in range(SHOPPERS):
        gender = rng.choice(["men", "women"])
        mine = [r for r in records if r.get("gender") == gender]
        brand = str(rng.choice(mine).get("brand")).lower()
        colour = product_family(rng.choice([r for r in mine if product_family(r)]))
        shoppers.append(Shopper(f"sim-{n:04d}", gender, brand, str(colour), rng.randrange(3)))
    return shoppers


def history(shopper: Shopper, records: list[dict], bands: dict[str, int], rng: random.Random) -> list[Event]:
    mine = [r for r in records if r.get("gender") == shopper.gender]
    out = []
    for i, kind in enumerate(HISTORY):
        wanted = tuple(rng.random() < LOYALTY for _ in range(3))
        pool = [r for r in mine if shopper.likes(r, bands, wanted)]  # type: ignore[arg-type]
        while not pool:  # a combination the catalog lacks: drop one preference at a time
            wanted = (wanted[0], wanted[1], False) if wanted[2] else (wanted[0], False, False) if wanted[1] else \
                (False, False, False)
            pool = [r for r in mine if shopper.likes(r, bands, wanted)]  # type: ignore[arg-type]
        record = rng.choice(pool)
        at = NOW - timedelta(days=60 * (len(HISTORY) - i) / len(HISTORY))
        out.append(Event(event_id=f"{shopper.name}-{i}", type=kind, product_id=record["id"], user_id=shopper.name,
                         timestamp=at, currency="INR", price=record["price"] if kind == "purchase" else None))
    return out


def main() -> None:
    settings = Settings()
    engine = fashion_engine(settings)
    records = [r for r in engine.records(engine.ids()).values()
               if r.get("product_type") and r.get("price") and r.get("brand") and r.get("gender") in ("men", "women")
               and r.get("age_group") != "kids"]
    bands = price_bands(records)
    rng = random.Random(SEED)
    shoppers = make_shoppers(records, rng)

    ROOT.mkdir(parents=True, exist_ok=True)
    db_path = ROOT / "events.sqlite"
    db_path.unlink(missing_ok=True)
    db = connect(f"sqlite:///{db_path}")
    store = EventStore(db)
    seen: dict[str, set[str]] = {}
    for shopper in shoppers:
        events = history(shopper, records, bands, rng)
        seen[shopper.name] = {e.product_id for e in events}
        result = store.record_events("sim", [e.model_dump(mode="json") for e in events])
        if result.rejected:
            raise SystemExit(f"events rejected: {result.rejected[:3]}")

    ranks: dict[str, list[int | None]] = {"plain": [], "personal": []}
    on_type: dict[str, list[float]] = {"plain": [], "personal": []}
    asked = 0
    for shopper in shoppers:
        by_type: dict[str, list[dict]] = defaultdict(list)
        for r in records:
            if r.get("gender") == shopper.gender:
                by_type[r["product_type"]].append(r)
        # Types big enough that the order matters, where something they would buy exists beyond their history.
        choices = sorted(t for t, rows in by_type.items() if len(rows) >= 30 and any(
            shopper.likes(r, bands) and r["id"] not in seen[shopper.name] for r in rows))
        if not choices:
            continue
        kind = rng.choice(choices)
        wanted = {r["id"] for r in by_type[kind] if shopper.likes(r, bands) and r["id"] not in seen[shopper.name]}
        query = f"{shopper.gender} {kind.lower()}"
        profile = engine.shopper_profile(shopper.name, recent_interactions(
            db, "sim", shopper.name, settings.personalization.max_interactions))
        asked += 1
        for variant, who in (("plain", None), ("personal", profile)):
            hits = [h.product for h in engine.search(query, size=DEPTH, shopper=who).hits]
            ranks[variant].append(next((i for i, h in enumerate(hits, 1) if h["id"] in wanted), None))
            on_type[variant].append(sum(h.get("product_type") == kind for h in hits[:10]) / 10)
    engine.close()

    def figures(variant: str) -> dict[str, float]:
        found = ranks[variant]
        return {"hit_rate@10": round(sum(1 for r in found if r and r <= 10) / len(found), 4),
                "mrr": round(sum(1 / r for r in found if r) / len(found), 4),
                "asked_type_share@10": round(statistics.mean(on_type[variant]), 4)}

    summary = {v: figures(v) for v in ranks}
    change = {m: f"{(summary['personal'][m] / summary['plain'][m] - 1) * 100:+.1f}%" if summary["plain"][m] else "n/a"
              for m in summary["plain"]}
    where = machine()
    out = {"machine": where, "settings": settings.personalization.model_dump(), "shoppers": len(shoppers),
           "searches": asked, "loyalty": LOYALTY, "seed": SEED, "results": summary, "change": change}
    table = ["| metric | plain | personal | change |", "|---|---|---|---|"]
    table += [f"| {m} | {summary['plain'][m]} | {summary['personal'][m]} | {change[m]} |" for m in summary["plain"]]
    text = "\n".join([
        "# Personalisation with simulated shoppers (fashion set)", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}.", "",
        f"{len(shoppers)} shoppers (seed {SEED}), each with a favourite brand, colour family and price third; "
        f"8 interactions each (3 clicks, 2 add-to-carts, 3 purchases), each preference holding with probability "
        f"{LOYALTY}. {asked} searches of \"<gender> <type>\": the rank of the first product matching all three "
        "preferences (none from their history), with their profile and without. `asked_type_share@10`: the share "
        "of the top 10 of the type asked for.", "", *table, ""])
    write_results(RESULTS, "personalization-simulated", out, text)
    print(text)


if __name__ == "__main__":
    main()
