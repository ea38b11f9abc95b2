"""How long ``import fnrun`` takes, against a bare interpreter start, and what it pulls in.

    python benchmarks/import_time.py [--runs 21]

Prints medians of repeated fresh interpreter starts (this machine is noisy: read medians and
the difference, not single runs) and checks that no heavy package is imported eagerly.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = (
    "pandas",
    "numpy",
    "storey",
    "kafka",
    "kubernetes",
    "fastapi",
    "sqlalchemy",
    "yaml",
    "typer",
    "rich",
    "nuclio",
    "pydantic",
)


def _time(code: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    _time("import fnrun", 2)  # warm the file cache and bytecode
    rows = [
        ("python -c pass", _time("pass", args.runs)),
        ('python -c "import fnrun"', _time("import fnrun", args.runs)),
    ]
    base = statistics.median(rows[0][1])
    print(f"{'command':<28} {'median ms':>10} {'p90 ms':>8} {'over bare ms':>13}")
    for label, times in rows:
        med = statistics.median(times)
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        print(f"{label:<28} {med * 1e3:>10.1f} {p90 * 1e3:>8.1f} {(med - base) * 1e3:>13.1f}")
    probe = f"import sys, fnrun; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"heavy packages imported by 'import fnrun': {loaded or 'none'}")


if __name__ == "__main__":
    main()
