"""Prometheus metrics of the serving front-end: counted here on the hot path (plain ints,
no locks: one event-loop thread), exposed by ``prometheus_client`` on a scrape (its text
format, labels escaped: a step or function name with a quote or a newline cannot forge a
sample)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from fnrun.extras import require

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# one sample of a source: (family name, "counter" or "gauge", labels, value); a counter's
# name is without its ``_total``
Sample = tuple[str, str, dict[str, str], float]


class Metrics:
    def __init__(self, function: str) -> None:
        self.function = function
        self.requests: dict[int, int] = defaultdict(int)  # by status code
        self.errors: dict[str, int] = defaultdict(int)  # by failing step
        self.buckets = [0] * len(_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.steps: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # count, seconds
        self.sources: list[Callable[[], list[Sample]]] = []  # more samples (stream counters)

    def observe_step(self, step: str, seconds: float) -> None:
        entry = self.steps[step]
        entry[0] += 1
        entry[1] += seconds

    def observe(self, status: int, seconds: float, step: str = "") -> None:
        # Called on the server's event-loop thread only: no lock needed on this hot path.
        self.requests[status] += 1
        if status >= 400:
            self.errors[step or "-"] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        index = bisect_left(_BUCKETS, seconds)
        if index < len(_BUCKETS):
            self.buckets[index] += 1  # per bucket; rendered cumulatively

    def render(self) -> str:
        """The text exposition (``text/plain; version=0.0.4``)."""
        require("prometheus_client", "serve", "/metrics", package="prometheus-client")
        from prometheus_client import CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        return str(generate_latest(registry).decode())


class _Collector:
    """The families of one :class:`Metrics` (a prometheus_client custom collector)."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            HistogramMetricFamily,
            SummaryMetricFamily,
        )

        m, fn = self.m, self.m.function
        requests = CounterMetricFamily(
            "fnrun_requests", "requests answered, by status", labels=["function", "status"]
        )
        for code, n in sorted(m.requests.items()):
            requests.add_metric([fn, str(code)], n)
        errors = CounterMetricFamily(
            "fnrun_step_errors", "failed requests, by failing step", labels=["function", "step"]
        )
        for step, n in sorted(m.errors.items()):
            errors.add_metric([fn, step], n)
        latency = HistogramMetricFamily(
            "fnrun_request_seconds", "time to answer a request", labels=["function"]
        )
        cumulative, buckets = 0, []
        for bound, count in zip(_BUCKETS, m.buckets, strict=True):
            cumulative += count
            buckets.append((str(bound), cumulative))
        buckets.append(("+Inf", m.latency_count))
        latency.add_metric([fn], buckets, m.latency_sum)
        steps = SummaryMetricFamily(
            "fnrun_step_seconds", "time in each step", labels=["function", "step"]
        )
        for step, (calls, total) in sorted(m.steps.items()):
            steps.add_metric([fn, step], int(calls), total)
        yield from (requests, errors, latency, steps)
        yield from _families([s for source in m.sources for s in source()])


def _families(samples: list[Sample]) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    kinds = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily}
    families: dict[str, Any] = {}
    for name, kind, labels, value in samples:
        family = families.get(name)
        if family is None:
            family = families[name] = kinds[kind](name, name.replace("_", " "), labels=list(labels))
        family.add_metric(list(labels.values()), value)
    yield from families.values()
