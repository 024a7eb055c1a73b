"""What the LLM layer costs a search on the online path, on the fashion index, in one process:

- cache hits: the same queries with the LLM off and on (its readings cached, as after `vitrina llm warm`), median
  and p99 of each and the difference (target: p50 within 1 ms);
- new queries with the default budget of 0: the search must not wait for the model (p99 against the rules path),
  while the model reads them in the background.

    python bench/llm_online.py   # needs the readings cached (vitrina eval --llm warms them) for the hit part,
                                 # and an LLM endpoint for the miss part; writes bench/results/llm-online.{json,md}
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from vitrina.cli_llm import llm_settings
from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import eval_engine

RESULTS = Path("bench/results")
ROUNDS = 5
NEW_QUERIES = ["a raincoat for the monsoon", "shoes for a long flight", "a gift for a nephew who skates",
               "something for a hot office day", "clothes for a hill station in december", "a bag for the gym",
               "outfit for a college fest", "slippers for the beach", "a watch for a swimmer", "warm socks for trekking"]


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(ms), 3), "p99": round(float(np.percentile(ms, 99)), 3), "n": len(ms)}


def main() -> None:
    settings = Settings(response_cache_size=0)
    shared = settings.datasets_path
    catalog = shared / "fashion" / "catalog.jsonl.gz"
    files = [shared / "fashion-queries" / "dev.jsonl", Path("bench/queries/fashion-vague.jsonl")]
    if not catalog.exists():
        sys.exit(f"{catalog} is absent: the fashion feed lives in ../shared/datasets")
    queries = [json.loads(line)["turns"][-1] for f in files for line in f.read_text().splitlines() if line.strip()]
    off = eval_engine("fashion", catalog, "myntra", settings)
    on = eval_engine("fashion", catalog, "myntra", llm_settings(settings, budget_ms=0))
    reader = on.query_reader()
    assert reader is not None
    cached = [q for q in queries if reader.cached(reader.prompt.parser.parse(q).normalized) is not None]
    if not cached:
        sys.exit("no LLM readings cached: run `vitrina eval --llm` (and the same for the vague queries) first")
    reader.warm(cached)  # as `vitrina llm warm` does: readings cached, what checking them needs made
    for q in cached:  # warm both (encoder query cache, pipelines)
        off.search(q), on.search(q)
    timings: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(ROUNDS):
        for q in cached:
            for name, engine in (("off", off), ("on", on)):
                started = time.perf_counter()
                engine.search(q)
                timings[name].append((time.perf_counter() - started) * 1000)
    hits = {name: percentiles(ms) for name, ms in timings.items()}
    hits["p50_difference_ms"] = round(hits["on"]["p50"] - hits["off"]["p50"], 3)
    misses: dict[str, list[float]] = {"off": [], "on": []}
    statuses = []
    for q in NEW_QUERIES:
        for name, engine in (("off", off), ("on", on)):
            started = time.perf_counter()
            response = engine.search(q)
            misses[name].append((time.perf_counter() - started) * 1000)
            if name == "on":
                statuses.append(response.understanding.llm.status if response.understanding.llm else "none")
    new = {name: percentiles(ms) for name, ms in misses.items()}
    new["statuses"] = {s: statuses.count(s) for s in set(statuses)}
    figures = {"machine": machine(), "model": settings.llm.model, "cached_queries": len(cached), "rounds": ROUNDS,
               "cache_hits": hits, "new_queries": new}
    text = (f"# The LLM layer on the online path ({settings.llm.model})\n\n`python bench/llm_online.py` on "
            f"{figures['machine']}; fashion catalog, one process, searches alternated off/on.\n\n"
            f"| | off p50 | on p50 | off p99 | on p99 |\n|---|---|---|---|---|\n"
            f"| {len(cached)} queries with cached readings x {ROUNDS} | {hits['off']['p50']} | {hits['on']['p50']} | "
            f"{hits['off']['p99']} | {hits['on']['p99']} |\n"
            f"| {len(NEW_QUERIES)} new queries (budget 0) | {new['off']['p50']} | {new['on']['p50']} | "
            f"{new['off']['p99']} | {new['on']['p99']} |\n\n"
            f"Cache hits: p50 {hits['p50_difference_ms']:+.3f} ms with the LLM. New queries: {new['statuses']} "
            "(answered by the rules at once; the model reads them in the background).\n")
    write_results(RESULTS, "llm-online", figures, text)
    print(text)
    off.close()
    on.close()


if __name__ == "__main__":
    main()
