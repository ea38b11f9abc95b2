"""What a serving function's ``/metrics`` say, for its page: requests by status, mean
latency and per-step time (prometheus_client's parser).

A page view must never make the service an open HTTP client, so the fetch goes only to an
address on loopback or a cluster-internal name (``*.svc``, ``*.cluster.local``: where the
service deploys or records functions), never follows a redirect, reads at most
``MAX_BYTES`` within ``TIMEOUT`` seconds, and is made at most once per ``TTL`` seconds per
address (pages in between show the cached answer).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fnrun.service.ui.once import OncePerTtl

TIMEOUT = 0.5
TTL = 5.0
MAX_BYTES = 1024 * 1024
_CLUSTER = (".svc", ".cluster.local")
View = dict[str, Any]  # {"rows": [[label, value], ...]} or {"error": text}


def allowed_address(address: str) -> bool:
    """Whether the service may fetch from ``address`` (loopback or inside the cluster)."""
    try:
        host = (urlsplit(address).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(_CLUSTER):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MetricsViews:
    """The metrics view of each function's address, cached for ``ttl`` seconds."""

    def __init__(
        self, fetch: Callable[[str], str] | None = None, ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._fetch = fetch or _fetch
        self._once: OncePerTtl[View] = OncePerTtl(ttl, clock)

    def __call__(self, doc: dict[str, Any]) -> View:
        address = str((doc.get("status") or {}).get("address") or "")
        if not allowed_address(address):
            return {"error": "not read: the address is not on loopback or inside the cluster"}
        # one fetch per address per ttl, however many pages are open
        return self._once.get(address, lambda: self._view(address))

    def _view(self, address: str) -> View:
        return view_of(address, self._fetch)


def view_of(address: str, fetch: Callable[[str], str] | None = None) -> View:
    """The metrics view of the server at ``address``, read now (``fnrun functions status``)."""
    try:
        text = (fetch or _fetch)(address.rstrip("/") + "/metrics")
    except Exception as exc:  # whatever the function does, the page still shows
        return {"error": f"the function does not answer: {type(exc).__name__}: {exc}"}
    return {"rows": _rows(_samples(text))}


def _fetch(url: str) -> str:
    import httpx

    with httpx.stream("GET", url, timeout=TIMEOUT, follow_redirects=False) as answer:
        answer.raise_for_status()
        deadline, data = time.monotonic() + TIMEOUT, b""
        for chunk in answer.iter_bytes():
            data += chunk
            if len(data) > MAX_BYTES or time.monotonic() > deadline:
                raise ValueError(f"its /metrics is over {MAX_BYTES} bytes or {TIMEOUT} s")
    return data.decode("utf-8", errors="replace")


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    from prometheus_client.parser import text_string_to_metric_families

    try:
        families = list(text_string_to_metric_families(text))
    except ValueError:
        return []
    return [(s.name, dict(s.labels), float(s.value)) for f in families for s in f.samples]


def _rows(samples: list[tuple[str, dict[str, str], float]]) -> list[list[str]]:
    rows = [[f"status {labels.get('status')}", f"{value:.0f}"]
            for name, labels, value in samples if name == "fnrun_requests_total"]  # fmt: skip
    total = {n: v for n, _labels, v in samples if n.startswith("fnrun_request_seconds_")}
    if total.get("fnrun_request_seconds_count"):
        mean = total["fnrun_request_seconds_sum"] / total["fnrun_request_seconds_count"] * 1e3
        rows.append(["mean latency", f"{mean:.2f} ms"])
    steps: dict[str, dict[str, float]] = {}
    for name, labels, value in samples:
        if name.startswith("fnrun_step_seconds_"):
            steps.setdefault(labels.get("step", ""), {})[name.rsplit("_", 1)[1]] = value
    for step, seen in sorted(steps.items()):
        if seen.get("count"):
            mean = seen.get("sum", 0.0) / seen["count"] * 1e3
            rows.append([f"step {step}", f"{seen['count']:.0f} calls, {mean:.2f} ms"])
    return rows + _observing_rows(samples)


def _observing_rows(samples: list[tuple[str, dict[str, str], float]]) -> list[list[str]]:
    """A traffic split's routes (requests, weight), its shadows, and tracking."""
    by: dict[tuple[str, str], float] = {}
    for name, labels, value in samples:
        by[(name, labels.get("route", ""))] = value
    rows = []
    for (name, route), value in sorted(by.items()):
        if name == "fnrun_split_requests_total":
            weight = by.get(("fnrun_split_weight", route), 0.0)
            rows.append([f"route {route}", f"{value:.0f} requests, weight {weight:g}"])
        elif name == "fnrun_mirror_requests_total":
            failed = by.get(("fnrun_mirror_failures_total", route), 0.0)
            skipped = by.get(("fnrun_mirror_skipped_total", route), 0.0)
            text = f"{value:.0f} sent, {failed:.0f} failed, {skipped:.0f} skipped"
            rows.append([f"shadow {route}", text])
    if ("fnrun_tracking_records_total", "") in by:
        lost = by.get(("fnrun_tracking_records_lost_total", ""), 0.0)
        rows.append(["tracking", f"{by[('fnrun_tracking_records_total', '')]:.0f} records, "
                                 f"{lost:.0f} lost"])  # fmt: skip
    return rows
