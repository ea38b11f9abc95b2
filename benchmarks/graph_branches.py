"""Fan-out latency on the async engine: two async branches of one event, joined by ``Merge``.

    python benchmarks/graph_branches.py [--wait-ms 10] [--requests 50]

Prints the median request latency next to the longest branch (the floor when branches run
at once) and the sum of the branches (what a walk one branch after the other costs), and
the ratio to each. Run it in an old tree and this one side by side to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import fnrun
from fnrun.serving.merger import Merge

WAIT = 0.01


async def branch_a(body: Any) -> Any:
    await asyncio.sleep(WAIT)
    return body


async def branch_b(body: Any) -> Any:
    await asyncio.sleep(WAIT)
    return body


def main() -> None:
    global WAIT
    parser = argparse.ArgumentParser()
    parser.add_argument("--wait-ms", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    WAIT = args.wait_ms / 1000
    fn = fnrun.new_function("branches", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    graph.to(handler="branch_a", name="a")
    graph.add_step(handler="branch_b", name="b")
    graph.add_step(Merge(), name="join", after=["a", "b"]).respond()
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    server.test(body=1)  # warm up
    times = []
    for _ in range(args.requests):
        start = time.perf_counter()
        server.test(body=1)
        times.append(time.perf_counter() - start)
    median = statistics.median(times) * 1000
    print(f"{'case':<40} {'median ms':>10} {'x longest':>10} {'x sum':>8}")
    print(
        f"{'2 async branches of ' + str(args.wait_ms) + ' ms + Merge':<40} {median:>10.1f} "
        f"{median / args.wait_ms:>10.2f} {median / (2 * args.wait_ms):>8.2f}"
    )


if __name__ == "__main__":
    main()
