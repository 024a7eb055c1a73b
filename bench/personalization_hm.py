"""Personalisation on real purchases (H&M: ../shared/datasets/hm). The 4,903 articles are ingested; every
customer's purchases but the last are recorded as purchase events in a service event store (SQLite); then each
customer with two or more purchases searches for their last purchase's product type (and, second, type and
colour). Hit rate@10 and MRR (over the top 100) of the article they actually bought, with their profile and
without (the same engine, the same query).

    python bench/personalization_hm.py     # writes bench/results/personalization-hm.{json,md}
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from vitrina.config import Settings
from vitrina.engine import Engine, open_engine
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.events.db import connect
from vitrina.events.models import Event
from vitrina.events.store import EventStore
from vitrina.personalize.store import recent_interactions

RESULTS = Path("bench/results")
ROOT = Path("data/bench/hm")
DEPTH = 100


def purchases(path: Path) -> dict[str, list[tuple[datetime, str, float]]]:
    """customer -> [(date, article, price)] in date order (ties: file order). The set's prices are scaled to an
    unnamed unit: the events say XXX (ISO 4217: no currency)."""
    out: dict[str, list[tuple[datetime, str, float]]] = defaultdict(list)
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = datetime.fromisoformat(row["t_dat"]).replace(tzinfo=UTC)
            out[row["customer_id"]].append((day, row["article_id"], float(row["price"])))
    return {c: sorted(rows, key=lambda r: r[0]) for c, rows in out.items()}


def rank_of(hits: list[dict], article: str) -> int | None:
    return next((i for i, h in enumerate(hits, start=1) if h["id"] == article), None)


def hm_engine(settings: Settings) -> tuple[Engine, Path]:
    """The H&M articles' index (ingested on first use) and the folder of the set."""
    data = settings.datasets_path / "hm"
    if not (data / "articles.csv").exists():
        raise SystemExit(f"{data} is absent: the H&M set lives in ../shared/datasets (see its README)")
    engine = open_engine(ROOT / "index", settings)
    if engine.count() == 0:
        report = engine.ingest(data / "articles.csv", feed="hm", fresh=True)
        print(f"ingested {report.upserted} articles in {report.seconds:.0f} s", flush=True)
    return engine, data


def main() -> None:
    settings = Settings(index_path=ROOT / "index")
    engine, data = hm_engine(settings)
    bought = purchases(data / "transactions_train.csv")
    db_path = ROOT / "events.sqlite"
    db_path.unlink(missing_ok=True)
    db = connect(f"sqlite:///{db_path}")
    store = EventStore(db)
    events = [Event(event_id=f"{c[:16]}-{i}", type="purchase", product_id=article, user_id=c, timestamp=day,
                    currency="XXX", price=price)
              for c, rows in bought.items() for i, (day, article, price) in enumerate(rows[:-1])]
    for start in range(0, len(events), 1000):
        result = store.record_events("hm", [e.model_dump(mode="json") for e in events[start:start + 1000]])
        if result.rejected:
            raise SystemExit(f"events rejected: {result.rejected[:3]}")
    testers = {c: rows for c, rows in bought.items() if len(rows) >= 2}
    print(f"{len(events)} purchase events from {len(bought)} customers; {len(testers)} with two or more", flush=True)

    results: dict[str, dict[str, list]] = {}
    timings: list[float] = []
    for variant in ("type", "type+colour"):
        plain: list[int | None] = []
        personal: list[int | None] = []
        for customer, rows in sorted(testers.items()):
            target = rows[-1][1]
            record = engine.get(target)
            if record is None:
                continue
            query = record.get("product_type") or record["title"]
            if variant == "type+colour" and record.get("colors"):
                query = f"{record['colors'][0]} {query}"
            started = time.perf_counter()
            profile = engine.shopper_profile(customer, recent_interactions(
                db, "hm", customer, settings.personalization.max_interactions))
            timings.append((time.perf_counter() - started) * 1000)
            for into, shopper in ((plain, None), (personal, profile)):
                hits = [h.product for h in engine.search(query, size=DEPTH, shopper=shopper).hits]
                into.append(rank_of(hits, target))
        results[variant] = {"plain": plain, "personal": personal}
    engine.close()

    def figures(ranks: list) -> dict:
        return {"hit_rate@10": round(sum(1 for r in ranks if r and r <= 10) / len(ranks), 4),
                "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 4), "queries": len(ranks)}

    summary: dict[str, dict] = {v: {"plain": figures(r["plain"]), "personal": figures(r["personal"])}
                               for v, r in results.items()}
    for v in summary.values():
        for metric in ("hit_rate@10", "mrr"):
            base = v["plain"][metric]
            v[f"{metric} change"] = f"{(v['personal'][metric] / base - 1) * 100:+.1f}%" if base else "n/a"
    where = machine()
    out = {"machine": where, "settings": settings.personalization.model_dump(), "events": len(events),
           "customers": len(bought), "tested": len(testers), "profile_ms_p50": round(statistics.median(timings), 3),
           "results": summary}
    table = ["| query | metric | plain | personal | change |", "|---|---|---|---|---|"]
    for variant, v in summary.items():
        for metric in ("hit_rate@10", "mrr"):
            table.append(f"| {variant} | {metric} | {v['plain'][metric]} | {v['personal'][metric]} | "
                         f"{v[metric + ' change']} |")
    text = "\n".join([
        "# Personalisation on H&M purchases", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}.", "",
        f"{len(events)} purchases (all but each customer's last) recorded as events; {len(testers)} customers with "
        "two or more purchases search their last purchase's product type (then colour and type); the rank of the "
        f"article they bought, with their profile and without. Profile build p50 {out['profile_ms_p50']} ms.", "",
        *table, ""])
    write_results(RESULTS, "personalization-hm", out, text)
    print(text)


if __name__ == "__main__":
    main()
