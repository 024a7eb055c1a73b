"""Throughput of `vitrina serve` with 1 and with 2 worker processes, for 1, 2 and 4 clients, on new queries.

One process tops out near 1.2x one client however many threads search (Qdrant Edge holds the GIL while it
searches: bench/concurrency.py); worker processes (`--workers`) share nothing but the port and the files. Each
server runs on the same index; the clients are threads sending searches the response cache cannot answer (a
colour, a type, a gender and a price drawn at random), over loopback, in alternated rounds; the median round is
reported. The clients share the 2 cores with the server, as a shop's load balancer would not.

    .venv/bin/python bench/concurrency_service.py --index data/bench/bench-44k   # bench/results/concurrency-service.*
    .venv/bin/python bench/concurrency_service.py --index data/bench/bench-1m --name concurrency-service-1m
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

from vitrina.evaluate.bench import read_through
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results

sys.path.insert(0, str(Path(__file__).parent))
from load_service import new_query, start_server  # noqa: E402  (a sibling script: the soak's queries and server)

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = (1, 2, 4)
WORKERS = (1, 2)


def round_of(base: str, key: str, clients: int, seconds: float, seed: int, keep_alive: bool) -> tuple[float, int]:
    """Searches per second of `clients` threads for `seconds`, and how many failed."""
    deadline = time.monotonic() + seconds
    done, failed = [0] * clients, [0] * clients

    def client(i: int) -> None:
        # http.client, not httpx: the clients share the 2 cores with the server, so the lighter the better
        rng = random.Random(seed * 100 + i)
        http = HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while time.monotonic() < deadline:
            http.request("POST", "/v1/default/search", json.dumps({"query": new_query(rng), "size": 10}), headers)
            response = http.getresponse()
            response.read()
            done[i] += response.status == 200
            failed[i] += response.status != 200
            if not keep_alive:
                http.close()  # the next request connects anew, and any worker may take it
        http.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started), sum(failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "data" / "bench" / "bench-44k")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-alive", action="store_true",
                        help="one connection per client (the kernel places each on a worker once, at random)")
    parser.add_argument("--name", default=None, help="results file name (default: concurrency-service[-keep-alive])")
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index at {args.index}: `vitrina bench --size 44k` builds data/bench/bench-44k")
    key = uuid.uuid4().hex
    rates: dict[int, dict[int, list[float]]] = {w: {c: [] for c in CLIENTS} for w in WORKERS}
    failures = 0
    # Both servers up at once, their rounds alternated, each round after the index's files are read through: this
    # machine evicts file pages unread for ~60 s (DAMON), so a server measured after the other would meet a colder
    # index (at 1M, 2 workers with 1 client read 20% slower than 1 worker when measured 3 minutes later).
    servers = {w: start_server(args.index, Path(tempfile.mkdtemp(prefix="vitrina-conc-")), key, w,
                               {"VITRINA_LEARNING__ENABLED": "false"}) for w in WORKERS}
    try:
        for _, base in servers.values():
            round_of(base, key, max(CLIENTS), 5, seed=999, keep_alive=False)  # every worker warm, the heap settled
        for r in range(args.rounds):
            for workers, (_, base) in servers.items():
                read_through(args.index)  # as on a server that has been up: the index's pages in the OS cache
                for clients in CLIENTS:
                    rate, failed = round_of(base, key, clients, args.seconds, seed=r * 10 + clients,
                                            keep_alive=args.keep_alive)
                    rates[workers][clients].append(rate)
                    failures += failed
                    print(f"workers {workers} clients {clients} round {r}: {rate:.1f}/s", flush=True)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(60)
    medians = {w: {c: round(statistics.median(v), 1) for c, v in by.items()} for w, by in rates.items()}
    base_rate = medians[1][1]
    rows = [{"workers": w, "clients": c, "searches_per_s": medians[w][c], "vs_one_worker_one_client":
             round(medians[w][c] / base_rate, 2), "vs_one_client_same_workers": round(medians[w][c] / medians[w][1], 2)}
            for w in medians for c in CLIENTS]
    where = machine()
    figures = {"machine": where, "index": str(args.index), "seconds_per_round": args.seconds, "rounds": args.rounds,
               "failed_requests": failures, "keep_alive": args.keep_alive, "rows": rows, "rounds_per_s": rates}
    lines = ["# The HTTP service with worker processes, new queries", "",
             f"{where['cpu']}, {where['cores']} cores; {where['when']}. `vitrina serve --workers N` on "
             f"{args.index}; clients are threads (http.client) in another process on the same cores, "
             f"each sending searches ({'over one kept-alive connection' if args.keep_alive else 'a new connection each'}) the "
             f"response cache cannot answer; both servers up at once, median of {args.rounds} alternated rounds of "
             f"{args.seconds:.0f} s, the index's files read through before each. "
             f"Failed requests: {failures}.", "",
             "| workers | clients | searches/s | vs 1 worker, 1 client | vs 1 client, same workers |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['workers']} | {r['clients']} | {r['searches_per_s']} | {r['vs_one_worker_one_client']}x | "
              f"{r['vs_one_client_same_workers']}x |" for r in rows]
    name = args.name or ("concurrency-service-keep-alive" if args.keep_alive else "concurrency-service")
    write_results(ROOT / "bench" / "results", name, figures, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
