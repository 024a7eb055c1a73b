"""How long the real demo's selection (catalog.demo.real_selection: 1,500 of the 44k Myntra products, also the
quick bench's first 1,000) takes as it is, validating only the rows it looks at, and by its definition, validating
every row first; alternated over rounds in one process. The selections must be equal.

    python bench/demo_selection.py   # writes bench/results/demo-selection.{json,md}
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from itertools import islice
from pathlib import Path

from vitrina.catalog.demo import ANSWERS_PER_QUERY, REAL_QUERIES, REAL_SIZE, fill_by_turns, real_selection
from vitrina.catalog.product import Product
from vitrina.catalog.registry import make_feed
from vitrina.catalog.validate import validate_rows
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results

FEED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fashion" / "catalog.jsonl.gz"
RESULTS = Path("bench/results")
ROUNDS = 3


def every_row_first(catalog: Path) -> list[Product]:
    """The selection's definition, as it was written before: all rows validated, then chosen."""
    products = [p for p in validate_rows(make_feed("myntra").rows(catalog)) if isinstance(p, Product)]
    chosen: dict[str, Product] = {}
    for demo in REAL_QUERIES:
        answering = (p for p in products if not demo.asked.misses(p.model_dump(), first=True))
        for product in islice(answering, ANSWERS_PER_QUERY):
            chosen.setdefault(product.id, product)
    by_type: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        by_type[product.product_type or ""].append(product)
    fill_by_turns(chosen, [iter(v) for v in by_type.values()], REAL_SIZE)
    return list(chosen.values())


def timed(select) -> tuple[float, list[Product]]:
    started = time.perf_counter()
    chosen = select(FEED)
    return time.perf_counter() - started, chosen


def main() -> None:
    if not FEED.exists():
        raise SystemExit(f"needs {FEED} (../shared/datasets beside the repo)")
    seconds: dict[str, list[float]] = {"every row first": [], "current": []}
    for _ in range(ROUNDS):
        plain, expected = timed(every_row_first)
        current, chosen = timed(real_selection)
        if chosen != expected:
            raise SystemExit("the selection differs from its definition")
        seconds["every row first"].append(round(plain, 2))
        seconds["current"].append(round(current, 2))
    medians = {k: round(statistics.median(v), 2) for k, v in seconds.items()}
    figures = {"machine": machine(), "products": len(chosen), "rounds": ROUNDS, "seconds": seconds,
               "median_s": medians, "ratio": round(medians["every row first"] / medians["current"], 2),
               "selections_equal": True}
    host = figures["machine"]
    text = (f"# The real demo's selection from the 44k Myntra feed\n\n{host['cpu']}, {host['cores']} cores; "
            f"{host['when']}.\n\n{len(chosen):,} products chosen (`vitrina demo`; the quick bench takes the first "
            f"1,000), {ROUNDS} rounds alternated in one process; the selections are equal.\n\n"
            "| how | median s | rounds s |\n|---|---|---|\n"
            + "".join(f"| {k} | {medians[k]} | {', '.join(map(str, v))} |\n" for k, v in seconds.items())
            + f"\nValidating every row first takes {figures['ratio']}x as long. "
            "Command: `python bench/demo_selection.py`.\n")
    write_results(RESULTS, "demo-selection", figures, text)
    print(text)


if __name__ == "__main__":
    main()
