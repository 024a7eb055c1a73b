"""`vitrina serve --workers N`: the API served by N processes on one port, so searches use every core.

One process cannot: Qdrant Edge holds the GIL while it searches, so threads of one process top out near 1.2x
one (README, "Searches without a lock"). The parent process sets up the service (database, keys, tenant
`default`), runs what must run once (the learner's updates, scheduled retraining, the local LLM server) and
supervises the workers (uvicorn's multiprocess mode: spawned, restarted if one dies). Each worker opens the
tenants' engines itself and follows the others (vitrina.serve.follow); metrics are summed over all workers.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from vitrina.config import Settings
    from vitrina.serve.service import Service

SPEC = "VITRINA_WORKER_SPEC"  # the parent's settings and storefront key, for the workers it spawns


def serve_workers(service: Service, host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes on host:port until interrupted (the caller owns `service`)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    metrics_dir = Path(service.settings.service.data_dir) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # a new run's counters start at zero
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    shared = worker_settings(service.settings, workers, len(os.sched_getaffinity(0)))
    os.environ[SPEC] = json.dumps({"settings": shared.model_dump(mode="json"),
                                   "public_key": service.keys.default_public})
    config = uvicorn.Config("vitrina.serve.workers:worker_app", factory=True, host=host, port=port,
                            workers=workers, log_level="warning")
    with listening_socket(host, port) as sock:
        Multiprocess(config, sockets=[sock]).run()


def worker_settings(settings: Settings, workers: int, cores: int) -> Settings:
    """The workers' settings: the query encoder's and the cross-encoder's threads split the cores among the
    workers, unless set. Each worker's searches would otherwise take threads from the others': alone, two threads
    answer a query in 3.4 ms instead of 4.2, but with a query every 5 ms they burnt 1.4 cores instead of 0.5 (that
    run's pools still spun after each query; onnx_session.py now stops them)."""
    share = max(1, cores // workers)
    if "threads" not in settings.encoder.model_fields_set:
        settings = settings.model_copy(update={"encoder": settings.encoder.model_copy(update={"threads": share})})
    if "rerank_threads" not in settings.tuning.model_fields_set:
        tuning = settings.tuning.model_copy(update={"rerank_threads": min(settings.tuning.rerank_threads, share)})
        settings = settings.model_copy(update={"tuning": tuning})
    return settings


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share, made as uvicorn's own but with proto IPPROTO_TCP: accepted connections
    inherit it, and asyncio sets TCP_NODELAY only on those that say TCP. uvicorn's (proto 0) leaves Nagle on, and
    each keep-alive request then waits ~40 ms on the client's delayed ACK (uvicorn issue #3149; measured here:
    68 ms per search instead of 20)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def worker_app() -> FastAPI:
    """A worker's app (uvicorn calls this in each spawned process)."""
    from vitrina.config import Settings
    from vitrina.serve.app import create_app
    from vitrina.serve.service import Service

    spec = json.loads(os.environ[SPEC])
    service = Service.build(Settings(**spec["settings"]))
    service.keys.default_public = spec["public_key"]
    return create_app(service, worker=True)
