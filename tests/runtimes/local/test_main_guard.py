"""The unguarded-script check: which top-level line a call runs under, and whether it sits in
an ``if __name__ == "__main__":`` guard (scripts run in a real child interpreter)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROBE = "from fnrun.runtimes.local.main_guard import unguarded_line\n"


def _run(tmp_path: Path, body: str) -> str:
    script = tmp_path / "script.py"
    script.write_text(PROBE + textwrap.dedent(body))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("print(unguarded_line())\n", "2"),  # at the top
        ("def go():\n    return unguarded_line()\n\n\nprint(go())\n", "6"),  # the calling line
        ('if __name__ == "__main__":\n    print(unguarded_line())\n', "0"),
        ("def go():\n    print(unguarded_line())\n\n\nif '__main__' == __name__:\n    go()\n", "0"),
        ("if True:\n    print(unguarded_line())\n", "3"),  # another if is no guard
    ],
)
def test_the_line_a_call_runs_under_and_whether_it_is_guarded(
    tmp_path: Path, body: str, expected: str
) -> None:
    assert _run(tmp_path, body) == expected


def test_no_script_means_nothing_to_guard() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE + "print(unguarded_line())"],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "0"
