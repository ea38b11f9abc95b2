"""Retries that know whose fault a failure was: ``fn.run(..., retry=N)`` or
``retry={"count": N, "backoff": S, "on": "infrastructure" | "any"}``.

A failed attempt is the **infrastructure**'s fault when the place it ran in went away under
it: the executor process killed by a signal from outside (SIGKILL: the OOM killer, ``kill
-9``; SIGTERM/SIGHUP/SIGINT: a shutdown), the function's memory limit enforced, a pod evicted,
OOM-killed, preempted or lost with its node, a pod that never reported, a Dask worker lost
under the run. It is the **code**'s fault when the handler raised (or exited, or crashed in
native code: SIGSEGV, SIGABRT). By default only the first kind is retried: running a bug again
gives the same bug, later.

MLRun's forms are taken as well: ``retry=mlrun.model.Retry(count=2, backoff={"base_delay":
"30s"})`` or its dict; MLRun retries any failure of a remote run, so MLRun code that needs
that says ``on="any"``.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from typing import Any

from fnrun.errors import InvalidArgumentError

INFRASTRUCTURE = "infrastructure"
CODE = "code"
ON = ("infrastructure", "any")
DEFAULT_BACKOFF = 1.0  # seconds before the first retry; doubled for each next one
MAX_DELAY = 300.0
MAX_COUNT = 100

# signals that come from outside the program: the machine or an operator ended it
_OUTSIDE_SIGNALS = frozenset(
    int(s) for s in (signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
)
# exceptions a handler sees when the engine it drives lost a worker (by class name: the
# engines are optional packages)
_INFRA_EXCEPTIONS = frozenset(("KilledWorker", "CommClosedError", "WorkerLostError"))
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
_UNITS = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}


@dataclass(frozen=True)
class RetryPolicy:
    """How many times a failed run is run again, after how long, and for whose faults."""

    count: int = 0
    backoff: float = DEFAULT_BACKOFF
    on: str = INFRASTRUCTURE

    @classmethod
    def from_any(cls, value: Any) -> RetryPolicy | None:
        """The policy of ``fn.run``'s ``retry=``; None for no retries."""
        if value is None or value is False:
            return None
        if hasattr(value, "to_dict") and not isinstance(value, dict):
            value = value.to_dict()  # MLRun's Retry object
        if isinstance(value, bool) or not isinstance(value, int | dict):
            raise InvalidArgumentError(
                f"retry must be a count or a mapping, got {type(value).__name__}",
                field="retry",
                hint='retry=2, or retry={"count": 2, "backoff": 5, "on": "infrastructure"}',
            )
        if isinstance(value, int):
            value = {"count": value}
        unknown = sorted(set(value) - {"count", "backoff", "on"})
        if unknown:
            raise InvalidArgumentError(
                f"unknown retry option(s) {', '.join(map(repr, unknown))}",
                field=f"retry.{unknown[0]}",
                hint="retry takes count, backoff (seconds) and on (infrastructure or any)",
            )
        count = value.get("count") or 0
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
            raise InvalidArgumentError(
                f"retry count must be an int from 0 to {MAX_COUNT}, got {count!r}",
                field="retry.count",
            )
        on = value.get("on") or INFRASTRUCTURE
        if on not in ON:
            raise InvalidArgumentError(
                f"retry on {on!r}: not a kind of failure",
                field="retry.on",
                hint="on='infrastructure' (killed processes, lost pods and workers; the "
                "default) or 'any' (also exceptions of the code)",
            )
        policy = cls(count=count, backoff=_seconds(value.get("backoff")), on=on)
        return policy if policy.count else None

    def retries(self, fault: str) -> bool:
        """Whether a failure of this kind is run again."""
        return self.on == "any" or fault == INFRASTRUCTURE

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        return float(min(self.backoff * 2 ** max(retry - 1, 0), MAX_DELAY))

    def to_dict(self) -> dict[str, Any]:
        """As the run document keeps it (``spec.retry``)."""
        return {"count": self.count, "backoff": self.backoff, "on": self.on}


def _seconds(value: Any) -> float:
    """``backoff``: seconds, a duration string (``"30s"``, ``"1h 30m"``), or MLRun's
    ``{"base_delay": "30s"}``."""
    if value is None:
        return DEFAULT_BACKOFF
    if isinstance(value, dict):
        value = value.get("base_delay")
        if value is None:
            return DEFAULT_BACKOFF
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        parts = _DURATION.findall(text)
        rebuilt = "".join(f"{n}{u}" for n, u in parts)
        if parts and rebuilt == re.sub(r"\s+", "", text) and all(u in _UNITS for _, u in parts):
            return sum(float(n) * _UNITS[u] for n, u in parts)
    raise InvalidArgumentError(
        f"retry backoff {value!r} is not a duration",
        field="retry.backoff",
        hint="seconds (5, 0.5) or a duration string ('30s', '2m', '1h 30m')",
    )


def fault_of_exception(exc: BaseException) -> str:
    """Whose fault a handler's exception is: an engine's lost worker is the
    infrastructure's, anything else the code's."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return INFRASTRUCTURE if names & _INFRA_EXCEPTIONS else CODE


def fault_of_exit(code: int, limit_enforced: bool = False) -> str:
    """Whose fault a process that ended without reporting is: killed from outside (or by
    the function's memory limit), the infrastructure's; exited or crashed, the code's."""
    if limit_enforced or -code in _OUTSIDE_SIGNALS or code - 128 in _OUTSIDE_SIGNALS:
        return INFRASTRUCTURE
    return CODE
