"""Prometheus metrics, one registry per app (no global state)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
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


class ServiceMetrics:
    def __init__(self, llm_stats: LLMStatsSource | None = None) -> None:
        self.registry = CollectorRegistry()
        if llm_stats is not None:
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

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
