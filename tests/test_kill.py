"""kill -9, for real: a process killed mid-ingest or mid-way through event batches loses nothing published or
acknowledged. Subprocesses, real files, a real server on loopback."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from vitrina.config import Settings
from vitrina.engine import Engine
from vitrina.events.db import connect
from vitrina.events.store import EventStore

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _env(vector_cache: Path) -> dict:
    return {**os.environ, "VITRINA_ENCODER__CACHE_PATH": str(vector_cache), "PYTHONUNBUFFERED": "1"}


def test_kill_9_during_an_ingest_leaves_the_previous_generation_searchable(tmp_path, sample_feed, encoder,
                                                                           vector_cache):
    index = tmp_path / "index"
    first = Engine(Settings(index_path=index, encoder={"cache_path": vector_cache}), encoder=encoder)
    first.ingest(sample_feed, fresh=True)
    before = [h.product["id"] for h in first.search("navy cotton shirt for men", size=5).hits]
    first.close()
    # A bigger feed, new products, in batches of 16: the ingest is mid-way when it is killed.
    rows = [json.loads(line) for line in sample_feed.read_text().splitlines()]
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({**r, "id": f"{r['id']}-{n}"}) + "\n" for n in range(16) for r in rows))
    env = {**_env(vector_cache), "VITRINA_INGEST_BATCH_SIZE": "16"}
    proc = subprocess.Popen([sys.executable, "-m", "vitrina.cli", "ingest", "--index", str(index), str(big)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(p.name != "gen-000001" for p in index.glob("gen-*")):  # the new generation is being written
        assert time.monotonic() < deadline and proc.poll() is None, "the ingest never started writing"
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    after = Engine(Settings(index_path=index, encoder={"cache_path": vector_cache}), encoder=encoder)
    assert after.count() == 360 and after.store.meta().generation == 1  # the published generation, whole
    assert [h.product["id"] for h in after.search("navy cotton shirt for men", size=5).hits] == before
    after.ingest([])  # the next write sweeps the half-written generation away and publishes a whole one
    assert after.store.meta().generation == 2 and after.count() == 360
    assert sorted(p.name for p in index.glob("gen-*")) == ["gen-000001", "gen-000002"]  # live and the one before
    after.close()


def test_kill_9_of_the_server_loses_no_acknowledged_event(tmp_path, sample_engine, vector_cache):
    port, data = free_port(), tmp_path / "service"
    env = {**_env(vector_cache), "VITRINA_API_KEY": "kill-key"}

    def start() -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "vitrina.cli", "serve", "--index", str(sample_engine.path),
                                 "--port", str(port), "--data-dir", str(data)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
            time.sleep(0.1)

    server = start()
    acknowledged: list[str] = []
    headers = {"Authorization": "Bearer kill-key"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as http:
        for batch in range(400):
            events = [{"event_id": f"b{batch}-{i}", "type": "click", "product_id": "VIT-0001",
                       "timestamp": "2026-11-23T10:00:00Z"} for i in range(5)]
            if batch == 150:
                os.kill(server.pid, signal.SIGKILL)  # right after an acknowledged batch
            try:
                r = http.post("/v1/default/events", json={"events": events})
            except httpx.HTTPError:
                break
            if r.status_code == 200:
                acknowledged += r.json()["stored"] + r.json()["duplicates"]
    server.wait(30)
    assert len(acknowledged) >= 150 * 5
    store = EventStore(connect(f"sqlite:///{data / 'vitrina.db'}"))
    assert store.stored_event_ids("default", acknowledged) == set(acknowledged)
    again = start()  # and the service comes back on the same files
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/default/events", headers=headers,
                       json={"events": [{"event_id": "b0-0", "type": "click", "product_id": "VIT-0001"}]})
        assert r.status_code == 200 and r.json()["duplicates"] == ["b0-0"]  # a retry after the crash counts once
    finally:
        again.terminate()
        again.wait(30)
