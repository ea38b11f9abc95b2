"""Timing helpers shared by the benchmark scripts (no fnrun import: the MLRun companion runs
them in MLRun's own virtualenv)."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Row = tuple[float, float, float]  # events/s (median of rounds), p50 us, p99 us


def rate(work: Callable[[], Any], events: int, rounds: int = 5) -> Row:
    """(median events/s, p50 us, p99 us) of ``work()``, after a warm-up."""
    for _ in range(min(events, 2000)):
        work()
    rates, lat = [], []
    clock = time.perf_counter
    for _ in range(rounds):
        start = clock()
        for _ in range(events):
            t0 = clock()
            work()
            lat.append(clock() - t0)
        rates.append(events / (clock() - start))
    lat.sort()
    return statistics.median(rates), lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def rate_async(call: Callable[[], Any], events: int, inflight: int, rounds: int = 5) -> Row:
    """The same with ``inflight`` awaitables of ``call()`` at a time."""

    async def one(lat: list[float]) -> None:
        t0 = time.perf_counter()
        await call()
        lat.append(time.perf_counter() - t0)

    async def round_(lat: list[float]) -> float:
        start = time.perf_counter()
        for offset in range(0, events, inflight):
            await asyncio.gather(*(one(lat) for _ in range(min(inflight, events - offset))))
        return events / (time.perf_counter() - start)

    lat: list[float] = []
    rates = [asyncio.run(round_(lat)) for _ in range(rounds)]
    lat.sort()
    return statistics.median(rates), lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def median_ms(work: Callable[[], Any], repeat: int, warmup: int = 2) -> tuple[float, float]:
    """(median, p90) milliseconds of ``work()`` over ``repeat`` calls, after ``warmup``."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def companion(python: str, script: str, *args: str) -> dict[str, Any] | None:
    """The last JSON line a companion script (``mlrun_*.py``, run by another virtualenv's
    ``python``) prints, or None (its error on stderr)."""
    path = Path(__file__).with_name(script)
    out = subprocess.run(
        [python, str(path), *args], capture_output=True, text=True, timeout=900, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        print(f"MLRun rows skipped: {python} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def inc(x: dict[str, Any]) -> dict[str, Any]:
    x["n"] = x.get("n", 0) + 1
    return x


async def ainc(x: dict[str, Any]) -> dict[str, Any]:
    x["n"] = x.get("n", 0) + 1
    return x


def total(request: dict[str, Any]) -> list[Any]:
    """The model of the model-serving rows: the sum of each input row."""
    return [sum(row) for row in request["inputs"]]
