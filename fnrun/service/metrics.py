"""Prometheus text metrics for the serving front-end (no client library needed)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self, function: str) -> None:
        self.function = function
        self.requests: dict[int, int] = defaultdict(int)  # by status code
        self.errors: dict[str, int] = defaultdict(int)  # by failing step
        self.buckets = [0] * len(_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.steps: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # count, seconds
        self.sources: list[Callable[[], list[str]]] = []  # more lines (stream counters)

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
        fn = self.function
        lines = ["# TYPE fnrun_requests_total counter"]
        lines += [
            f'fnrun_requests_total{{function="{fn}",status="{code}"}} {n}'
            for code, n in sorted(self.requests.items())
        ]
        lines.append("# TYPE fnrun_step_errors_total counter")
        lines += [
            f'fnrun_step_errors_total{{function="{fn}",step="{step}"}} {n}'
            for step, n in sorted(self.errors.items())
        ]
        lines.append("# TYPE fnrun_request_seconds histogram")
        cumulative = 0
        for bound, count in zip(_BUCKETS, self.buckets, strict=True):
            cumulative += count
            lines.append(
                f'fnrun_request_seconds_bucket{{function="{fn}",le="{bound}"}} {cumulative}'
            )
        lines.append(
            f'fnrun_request_seconds_bucket{{function="{fn}",le="+Inf"}} {self.latency_count}'
        )
        lines.append(f'fnrun_request_seconds_sum{{function="{fn}"}} {self.latency_sum:.6f}')
        lines.append(f'fnrun_request_seconds_count{{function="{fn}"}} {self.latency_count}')
        lines.append("# TYPE fnrun_step_seconds summary")
        for step, (calls, total) in sorted(self.steps.items()):
            lines.append(f'fnrun_step_seconds_count{{function="{fn}",step="{step}"}} {calls:.0f}')
            lines.append(f'fnrun_step_seconds_sum{{function="{fn}",step="{step}"}} {total:.6f}')
        for source in self.sources:
            lines += source()
        return "\n".join(lines) + "\n"
