"""Prometheus metrics, one registry per app (no global state)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


LLMStatsSource = Callable[[], dict[str, dict[str, float]]]  # tenant -> the LLM client's counters


class LLMCollector(Collector):
    """The LLM clients' counters (calls, cache hits, failures, tokens, seconds), read at scrape time."""
    def __init__(self, source: LLMStatsSource):
        self.source = source

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = self.source()
        names = sorted({name for counts in stats.values() for name in counts})
        for name in names:
            family = CounterMetricFamily(f"vitrina_llm_{name}", f"LLM {name.replace('_', ' ')}", labels=["tenant"])
            for tenant, counts in sorted(stats.items()):
                family.add_metric([tenant], counts.get(name, 0.0))
            yield family


def multiprocess_dir() -> str | None:
    """Where the worker processes of one service (vitrina.serve.workers) write their metric values, if they do:
    prometheus_client's multiprocess mode, switched on by this variable before it is imported."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


class ServiceMetrics:
    def __init__(self, llm_stats: LLMStatsSource | None = None) -> None:
        self.registry = CollectorRegistry()
        # Several workers: each scrape reaches one of them, so the values are summed over all of them from the
        # shared folder, and the LLM clients' counters are copied into counters there (flush_llm).
        self.shared = multiprocess_dir() is not None
        self._llm_counters: dict[str, Counter] = {}
        self._llm_flushed: dict[tuple[str, str], float] = {}
        if llm_stats is not None and not self.shared:
            self.registry.register(LLMCollector(llm_stats))
        self.requests = Counter("vitrina_http_requests_total", "HTTP requests", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("vitrina_http_request_seconds", "HTTP request latency", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.stages = Histogram("vitrina_search_stage_seconds", "Search latency per pipeline stage", ["stage"],
                                buckets=LATENCY_BUCKETS, registry=self.registry)
        self.events = Counter("vitrina_events_total", "Events received", ["tenant", "type", "outcome"],
                              registry=self.registry)
        self.errors = Counter("vitrina_errors_total", "Requests answered with an error", ["route", "status"],
                              registry=self.registry)

    def observe_stages(self, timings: dict[str, float]) -> None:
        for stage, ms in timings.items():
            self.stages.labels(stage).observe(ms / 1000)

    def flush_llm(self, stats: dict[str, dict[str, float]]) -> None:
        """Add what this worker's LLM clients counted since the last flush to the shared counters."""
        for tenant, counts in stats.items():
            for name, value in counts.items():
                delta = value - self._llm_flushed.get((tenant, name), 0.0)
                if delta <= 0:
                    continue
                counter = self._llm_counters.get(name)
                if counter is None:
                    counter = self._llm_counters[name] = Counter(
                        f"vitrina_llm_{name}", f"LLM {name.replace('_', ' ')}", ["tenant"], registry=self.registry)
                counter.labels(tenant).inc(delta)
                self._llm_flushed[(tenant, name)] = value

    def exposition(self) -> bytes:
        if self.shared:
            summed = CollectorRegistry()
            multiprocess.MultiProcessCollector(summed)
            return generate_latest(summed)
        return generate_latest(self.registry)
