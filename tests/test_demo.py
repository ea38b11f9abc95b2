"""The README's demo command runs end to end on embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fnrun

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_runs_and_tracks(fnrun_home: Path) -> None:
    env = {**os.environ, "FNRUN_HOME": str(fnrun_home)}
    env.pop("FNRUN_DBPATH", None)
    proc = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "best iteration" in proc.stdout and "completed" in proc.stdout
    assert "POST /v2/models/line/infer -> outputs [" in proc.stdout  # the logged model, served
    db = fnrun.get_run_db()
    runs = {r["metadata"]["name"]: r for r in db.list_runs(project="demo")}
    assert runs["fit-line"]["status"]["state"] == "completed"
    assert runs["fit-grid"]["status"]["best_iteration"] >= 1
    assert {a["metadata"]["key"] for a in db.list_artifacts(project="demo")} >= {"fit", "line"}
    assert len(db.list_function_versions("trainer", "demo")) == 2
