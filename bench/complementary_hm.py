"""Frequently bought together on real purchases (H&M: ../shared/datasets/hm). Every customer's purchases but the
last are recorded as purchase events; for each customer with two or more, the products that go with their
second-to-last purchase (what its other buyers bought, then a look built around it: the cold start) are ranked,
and the article they bought last is looked for in the top 10, beside the most-bought articles as a baseline.

    python bench/complementary_hm.py     # writes bench/results/complementary-hm.{json,md}
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

from personalization_hm import ROOT, hm_engine, purchases

from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.events.db import connect
from vitrina.events.models import Event
from vitrina.events.store import EventStore
from vitrina.recommend.together import bought_together

RESULTS = Path("bench/results")
K = 10


def main() -> None:
    engine, data = hm_engine(Settings(index_path=ROOT / "index"))
    bought = purchases(data / "transactions_train.csv")
    db_path = ROOT / "complementary.sqlite"
    db_path.unlink(missing_ok=True)
    db = connect(f"sqlite:///{db_path}")
    events = [Event(event_id=f"{c[:16]}-{i}", type="purchase", product_id=article, user_id=c, timestamp=day,
                    currency="XXX", price=price)
              for c, rows in bought.items() for i, (day, article, price) in enumerate(rows[:-1])]
    store = EventStore(db)
    for start in range(0, len(events), 1000):
        store.record_events("hm", [e.model_dump(mode="json") for e in events[start:start + 1000]])
    popular = [a for a, _ in Counter(e.product_id for e in events).most_common(K + 1)]
    hits: dict[str, list[bool]] = {"bought together": [], "bought together, then the look": [], "most bought": []}
    coverage, took = [], []
    for _, rows in sorted(bought.items()):
        if len(rows) < 2:
            continue
        previous, target = rows[-2][1], rows[-1][1]
        if target == previous or engine.get(previous) is None:
            continue
        started = time.perf_counter()
        together = [pid for pid, _ in bought_together(db, "hm", previous, K)]
        look = engine.outfit(product_id=previous)
        filled = together + [i.product["id"] for i in (look.items if look else [])
                             if not i.given and i.product["id"] not in together]
        took.append((time.perf_counter() - started) * 1000)
        coverage.append(bool(together))
        hits["bought together"].append(target in together)
        hits["bought together, then the look"].append(target in filled[:K])
        hits["most bought"].append(target in [p for p in popular if p != previous][:K])
    engine.close()
    n = len(coverage)
    figures = {"machine": machine(), "events": len(events), "customers_tested": n,
               "with_co_purchases": round(sum(coverage) / n, 4), "p50_ms": round(statistics.median(took), 2),
               "hit_rate@10": {name: round(sum(v) / n, 4) for name, v in hits.items()}}
    lines = ["# Frequently bought together on H&M purchases", "",
             f"{len(events)} purchases (all but each customer's last) recorded as events; {n} customers with two or "
             "more purchases: does what goes with their second-to-last purchase include their last one?", "",
             "| ranking | hit rate@10 |", "|---|---|"]
    lines += [f"| {name} | {rate:.4f} |" for name, rate in figures["hit_rate@10"].items()]
    lines += ["", f"{figures['with_co_purchases']:.1%} of those products had co-purchases in the log; "
              f"p50 {figures['p50_ms']} ms per product (co-purchases and a look).", ""]
    write_results(RESULTS, "complementary-hm", figures, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
