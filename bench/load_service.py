"""Load test of `vitrina serve` over loopback: mixed searches and event batches for a bounded time.

Starts the real server in a subprocess, drives it with asyncio clients, reports p50/p99 per request kind and
errors, then checks that every event the server acknowledged is in the store. Not part of the test suite.

    .venv/bin/python bench/load_service.py --seconds 60 --clients 4
    .venv/bin/python bench/load_service.py --index data/bench/bench-44k --seconds 600 --new-share 0.5 --name soak

`--new-share` makes that share of the searches new (a colour, a type, a gender and a price drawn at random, so the
response cache cannot answer them); the server's RSS is sampled every 5 s and its growth after the first minute
reported (the soak's limit: under 10%).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil

from vitrina.evaluate.bench import percentiles
from vitrina.evaluate.machine import machine
from vitrina.events.db import connect
from vitrina.events.store import EventStore

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "datasets" / "fashion-queries" / "dev.jsonl"
FALLBACK = ["navy cotton shirt for men under 60", "white sneakers for women", "black dress not short",
            "cozy jacket for the office under $150", "a jacket and boots for men", "red summer dress", "wool scarf"]


def queries() -> list[str]:
    if not DEV.exists():
        return FALLBACK
    return [turn for line in DEV.read_text().splitlines() for turn in json.loads(line)["turns"]]


async def timed_post(http: httpx.AsyncClient, kind: str, path: str, body: dict, record: dict) -> dict | None:
    """POST and record its latency under `kind`; a failure is recorded as an error and gives None."""
    started = time.perf_counter()
    try:
        r = await http.post(path, json=body)
    except httpx.HTTPError as exc:
        record["errors"].append(f"{kind}: {exc!r}")
        return None
    record[kind].append((time.perf_counter() - started) * 1000)
    if r.status_code != 200:
        record["errors"].append(f"{kind}: HTTP {r.status_code}")
        return None
    return r.json()


COLOURS = ["black", "navy", "white", "red", "olive", "grey", "maroon", "beige", "pink", "blue", "green", "brown"]
TYPES = ["shirt", "tshirt", "jeans", "dress", "kurta", "sneakers", "heels", "jacket", "watch", "backpack", "saree",
         "trousers", "sandals", "top", "shorts", "handbag"]


def new_query(rng: random.Random) -> str:
    """A query the server has most likely not seen: words it knows, in a combination drawn at random."""
    return (f"{rng.choice(COLOURS)} {rng.choice(TYPES)} for {rng.choice(['men', 'women'])} "
            f"under {rng.randrange(300, 5000, 7)}")


async def client(base: str, key: str, deadline: float, asked: list[str], record: dict, rng: random.Random,
                 new_share: float = 0.0) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() < deadline:
            query = new_query(rng) if rng.random() < new_share else rng.choice(asked)
            found = await timed_post(http, "search", "/v1/default/search", {"query": query, "size": 10}, record)
            if found is None:
                continue
            batch = []
            for position, hit in enumerate(found["hits"][:3], start=1):
                if rng.random() < 0.5:
                    kind = rng.choice(["click", "click", "add_to_cart", "purchase"])
                    event = {"event_id": uuid.uuid4().hex, "type": kind, "search_id": found["search_id"],
                             "product_id": hit["product"]["id"], "position": position,
                             "timestamp": "2026-11-22T10:00:00Z", "session_id": "load"}
                    if kind == "purchase":
                        event |= {"price": hit["product"].get("price") or 1.0, "currency": "USD"}
                    batch.append(event)
            if not batch:
                continue
            body = await timed_post(http, "events", "/v1/default/events", {"events": batch}, record)
            if body is None:
                continue
            record["acked"].extend(body["stored"] + body["duplicates"])
            record["sent"] += len(batch)


def start_server(index: Path, data_dir: Path, key: str, workers: int = 1,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`vitrina serve` on `index` at a free loopback port, answering /healthz; (the process, its base URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "vitrina.cli", "serve", "--index", str(index), "--port",
                               str(port), "--data-dir", str(data_dir), "--workers", str(workers)],
                              env={**os.environ, "VITRINA_API_KEY": key, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"vitrina serve on {index} ({workers} workers) did not start")


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:  # a child that exited between the listing and the reading
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "data" / "demo-index", help="index to serve")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--new-share", type=float, default=0.0, help="share of searches that are new queries")
    parser.add_argument("--name", default="load-service", help="results file name")
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        sys.exit(f"no index at {args.index}: run `vitrina demo --no-serve` (sample catalog) or `vitrina ingest` first")
    data_dir = Path(tempfile.mkdtemp(prefix="vitrina-load-"))
    key = uuid.uuid4().hex
    server, base = start_server(args.index, data_dir, key)
    try:
        httpx.post(base + "/v1/default/search", json={"query": "warm up"}, headers={"Authorization": f"Bearer {key}"},
                   timeout=60)
        record = {"search": [], "events": [], "errors": [], "acked": [], "sent": 0}
        asked = queries()
        started = time.monotonic()
        deadline = started + args.seconds

        rss: list[tuple[float, float]] = []  # (seconds in, server RSS MB)
        children: list[float] = []  # the server's child processes together (the learner's updates), MB

        async def sample() -> None:
            process = psutil.Process(server.pid)
            while time.monotonic() < deadline:
                rss.append((round(time.monotonic() - started, 1), round(process.memory_info().rss / 2 ** 20, 1)))
                children.append(round(sum(_rss(c) for c in process.children(recursive=True)) / 2 ** 20, 1))
                await asyncio.sleep(5)

        async def run() -> None:
            await asyncio.gather(sample(), *[client(base, key, deadline, asked, record, random.Random(i),
                                                    args.new_share) for i in range(args.clients)])

        asyncio.run(run())
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(30)
    store = EventStore(connect(f"sqlite:///{data_dir / 'vitrina.db'}"))
    missing = sorted(set(record["acked"]) - store.stored_event_ids("default", record["acked"]))
    result = {
        "machine": machine(), "index": str(args.index), "clients": args.clients, "seconds": round(elapsed, 1),
        "searches": len(record["search"]), "event_batches": len(record["events"]), "events_sent": record["sent"],
        "events_acknowledged": len(record["acked"]), "acknowledged_events_missing_from_store": len(missing),
        "errors": len(record["errors"]), "error_samples": record["errors"][:10],
        "search_ms": {**percentiles(record["search"]),
                      "mean": round(statistics.fmean(record["search"]), 2) if record["search"] else 0},
        "events_ms": percentiles(record["events"]),
        "throughput_rps": round((len(record["search"]) + len(record["events"])) / elapsed, 1),
        "new_query_share": args.new_share,
        "server_rss_mb": _growth(rss),
        "children_rss_peak_mb": max(children, default=0.0),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=2))
    growth = result["server_rss_mb"]
    (args.out / f"{args.name}.md").write_text(
        f"# Service load test ({result['machine']['cores']} cores, {result['clients']} clients, "
        f"{result['seconds']} s, loopback)\n\n"
        "| requests | count | p50 ms | p99 ms |\n|---|---|---|---|\n"
        f"| search | {result['searches']} | {result['search_ms']['p50']} | {result['search_ms']['p99']} |\n"
        f"| event batches | {result['event_batches']} | {result['events_ms']['p50']} | {result['events_ms']['p99']} |\n\n"
        f"Throughput {result['throughput_rps']} requests/s; errors {result['errors']}; events acknowledged "
        f"{result['events_acknowledged']}, missing from the store afterwards: "
        f"**{result['acknowledged_events_missing_from_store']}**. New queries: {args.new_share:.0%} of searches. "
        f"Server RSS after the first minute {growth.get('after_first_minute')} MB, at the end {growth.get('end')} MB "
        f"(growth {growth.get('growth_percent')}%, peak {growth.get('peak')} MB); its child processes (the "
        f"learner's updates) peaked at {result['children_rss_peak_mb']} MB together.\n")
    print(json.dumps(result, indent=2))
    if missing or record["errors"]:
        sys.exit(1)


def _growth(samples: list[tuple[float, float]]) -> dict:
    """RSS from the first sample past a minute (caches and models warm) to the last."""
    if not samples:
        return {}
    warm = next((mb for t, mb in samples if t >= 60), samples[0][1])
    end = samples[-1][1]
    return {"after_first_minute": warm, "end": end, "peak": max(mb for _, mb in samples),
            "growth_percent": round(100 * (end - warm) / warm, 1), "samples": samples}


if __name__ == "__main__":
    main()
