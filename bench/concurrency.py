"""Throughput of one engine shared by 1, 2 and 4 threads (as the service's worker threads share a tenant's
engine), on new queries: real bench queries with a varying word added, so neither the response cache nor the
query-vector cache answers. Rounds interleave the thread counts; medians are reported, and the ratios to 1 thread.

    python bench/concurrency.py [INDEX]      # default data/bench/bench-44k (vitrina bench --size 44k builds it)
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

from vitrina.config import Settings
from vitrina.engine import open_engine
from vitrina.evaluate.bench import bench_queries
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results

RESULTS = Path("bench/results")
PER_ROUND = 160  # searches per round, split over the threads
ROUNDS = 3
WORDS = ["blue", "cotton", "men", "women", "black", "summer", "formal", "sale", "soft", "new", "light", "classic"]


def one_round(engine, queries: list[str], threads: int, start: int) -> float:
    share = PER_ROUND // threads

    def client(k: int) -> None:
        for i in range(share):
            n = start + k * share + i
            engine.search(f"{queries[n % len(queries)]} {WORDS[n % len(WORDS)]} {n}")

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    began = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return share * threads / (time.perf_counter() - began)


def main(index: Path) -> dict:
    if not any(index.glob("gen-*")):
        sys.exit(f"no index at {index}: run `vitrina bench --size 44k` first")
    base = Settings(domain="fashion", warm_on_open=True)  # opened as the service opens it (vitrina.heap)
    queries = bench_queries(base.datasets_path, 1000)
    measured = {}
    for encoder_threads in (2, 1):  # onnxruntime threads per search: 2 (the default) or 1 (room for a second)
        engine = open_engine(index, base.model_copy(update={"encoder": base.encoder.model_copy(
            update={"threads": encoder_threads})}))
        for q in queries[:20]:
            engine.search(q)
        rates: dict[int, list[float]] = {1: [], 2: [], 4: []}
        start = 0
        for _ in range(ROUNDS):
            for threads in rates:
                rates[threads].append(one_round(engine, queries, threads, start))
                start += PER_ROUND
        engine.close()
        median = {t: round(statistics.median(r), 1) for t, r in rates.items()}
        measured[encoder_threads] = {"queries_per_s": median,
                                     "ratio_to_1": {t: round(v / median[1], 2) for t, v in median.items()}}
    result = {"machine": machine(), "index": str(index), "rounds": ROUNDS, "searches_per_round": PER_ROUND,
              "by_encoder_threads": measured}
    write_results(RESULTS, "concurrency", result, markdown(result))
    print(markdown(result))
    return result


def markdown(r: dict) -> str:
    m = r["machine"]
    rows = "\n".join(f"| {e} | {t} | {q} | {d['ratio_to_1'][t]}x |" for e, d in r["by_encoder_threads"].items()
                     for t, q in d["queries_per_s"].items())
    return (f"# One engine, several threads, new queries ({r['index']})\n\n{m['cpu']}, {m['cores']} cores; {m['when']}. "
            f"Median of {r['rounds']} interleaved rounds of {r['searches_per_round']} searches, in one process.\n\n"
            "| encoder threads | client threads | searches/s | vs 1 client |\n|---|---|---|---|\n" + rows + "\n\n"
            "Target: 2 clients >= 1.6x one.\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/bench/bench-44k"))
