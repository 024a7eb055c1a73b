"""Search latency on glibc's malloc against mimalloc (what the `vitrina` command runs on), on an index `vitrina bench`
built. An allocator is chosen when a process starts, so each measurement is its own process, the two alternated
round by round on this shared machine (a first, discarded process warms the OS page cache); medians of each
allocator's per-process percentiles. Each process times the same new queries after the bench's warm-up, with the
bench's fixed CPU task between queries as a noise probe, then 1- and 2-client throughput on the next 200 queries.

    python bench/allocator_search.py [--index data/bench/bench-1m] [--queries 300] [--rounds 3]
    # writes bench/results/allocator-search.{json,md}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from vitrina.allocator import CHOICE, preload_environment
from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results

RESULTS = Path("bench/results")
ALLOCATORS = ("system", "mimalloc")


def child(index: Path, n_queries: int) -> dict:
    from vitrina.engine import Engine
    from vitrina.evaluate.bench import _fixed_work, bench_queries, percentiles, rss_mb, throughput

    settings = Settings(index_path=index, domain="fashion", warm_on_open=True, response_cache_size=0,
                        encoder={"cache_path": index.parent / "vectors.sqlite"})
    queries = bench_queries(settings.datasets_path, n_queries)
    engine = Engine(settings)
    for q in ("warm up the engine", "blue shirt", "black jeans for men", "red dress under 1000", "running shoes"):
        engine.search(q)
    wall, probe = [], []
    for i, query in enumerate(queries):
        started = time.perf_counter()
        engine.search(query)
        wall.append((time.perf_counter() - started) * 1000)
        if i % 4 == 0:
            probe.append(_fixed_work())
    rss = rss_mb()
    engine.close()
    # As `vitrina bench` measures it: new queries (the last ones of the list), 1 and 2 threads each with its engine
    later = bench_queries(settings.datasets_path, n_queries + 200)[n_queries:]
    qps = {str(n): throughput(settings, later, n) for n in (1, 2)}
    return {"search_ms": percentiles(wall), "noise_probe_ms": percentiles(probe), "rss_mb": rss, "qps": qps}


def run(index: Path, n_queries: int, allocator: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env[CHOICE] = allocator
    chosen = preload_environment(env) or env
    done = subprocess.run([sys.executable, __file__, "--child", "--index", str(index), "--queries", str(n_queries)],
                          env=chosen, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("data/bench/bench-1m"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.index, args.queries)))
        return
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index at {args.index}: build one with `vitrina bench --size 1m` first")
    run(args.index, args.queries, "system")  # discarded: warms the page cache for both
    runs: dict[str, list[dict]] = {a: [] for a in ALLOCATORS}
    for round_ in range(args.rounds):
        for allocator in ALLOCATORS:
            runs[allocator].append(run(args.index, args.queries, allocator))
            print(round_, allocator, runs[allocator][-1], flush=True)
    medians = {a: {"p50": statistics.median(r["search_ms"]["p50"] for r in rs),
                   "p95": statistics.median(r["search_ms"]["p95"] for r in rs),
                   "p99": statistics.median(r["search_ms"]["p99"] for r in rs),
                   "noise_p50": statistics.median(r["noise_probe_ms"]["p50"] for r in rs),
                   "rss_mb": statistics.median(r["rss_mb"] for r in rs),
                   "qps_1": statistics.median(r["qps"]["1"] for r in rs),
                   "qps_2": statistics.median(r["qps"]["2"] for r in rs)} for a, rs in runs.items()}
    result = {"machine": machine(), "index": str(args.index), "queries": args.queries, "rounds": args.rounds,
              "medians": medians, "runs": runs}
    write_results(RESULTS, "allocator-search", result, markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    m, med = r["machine"], r["medians"]
    rows = "".join(f"| {a} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | {f['noise_p50']:.1f} | "
                   f"{f['rss_mb']:,.0f} | {f['qps_1']:.1f} / {f['qps_2']:.1f} |\n" for a, f in med.items())
    ratio = med["mimalloc"]["p50"] / med["system"]["p50"]
    return ("# Search latency by allocator\n\n"
            f"{m['cpu']}, {m['cores']} cores; {m['when']}. Index {r['index']}; {r['queries']} new queries per "
            f"process, response cache off; {r['rounds']} rounds, the allocators alternated; medians.\n\n"
            "| allocator | p50 ms | p95 ms | p99 ms | noise probe p50 ms | RSS MB | q/s 1 / 2 clients |\n"
            "|---|---|---|---|---|---|---|\n"
            + rows + f"\nmimalloc / glibc p50: {ratio:.2f}.\n")


if __name__ == "__main__":
    main()
