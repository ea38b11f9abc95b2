"""``fn.run`` end to end through the public API, tracked in the default run DB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, RunError
from tests.conftest import DATA

JOBS = str(DATA / "code" / "jobs.py")


def _fn(kind: str = "job") -> fnrun.BaseRuntime:
    return fnrun.code_to_function("jobs", filename=JOBS, kind=kind, project="t")


def test_run_handler_tracks_params_results_labels_logs() -> None:
    run = _fn().run(handler="echo", params={"p1": 5}, labels={"a": "b"}, local=True)
    assert run.state() == "completed"
    assert run.outputs == {"double": 10, "return": 5}
    stored = fnrun.get_run_db().read_run(run.uid(), "t")
    assert stored["spec"]["parameters"] == {"p1": 5} and stored["metadata"]["labels"] == {"a": "b"}
    assert stored["spec"]["function"] == "db://t/jobs:latest"
    logs = run.logs()
    assert "p1=5 p2=x" in logs and "to stderr" in logs and "logged via context.logger" in logs


def test_falsy_return_and_returns_keys() -> None:
    fn = _fn()
    assert fn.run(handler="zero", local=True).output("return") == 0
    run = fn.run(handler="two", returns=["score", "name"], local=True)
    assert run.outputs == {"score": 0.5, "name": "label"}


def test_local_kind_runs_without_local_flag_and_default_handler() -> None:
    fn = fnrun.code_to_function("jobs", filename=JOBS, kind="local", handler="echo")
    assert fn.run(params={"p2": "y"}).output("double") == 2


def test_handler_kind_with_a_callable() -> None:
    def add(context, a=1, b=2):  # type: ignore[no-untyped-def]
        return a + b

    run = fnrun.new_function("adder", kind="handler").run(handler=add, params={"a": 10})
    assert run.output("return") == 12 and run.metadata["name"] == "adder"


def test_error_run_is_tracked_and_raises_with_traceback() -> None:
    with pytest.raises(RunError, match="ValueError: bad value 7") as err:
        _fn().run(handler="fails", params={"p1": 7}, local=True)
    run = err.value.run
    stored = fnrun.get_run_db().read_run(run.uid(), "t")
    assert stored["status"]["state"] == "error"
    assert "raise ValueError" in stored["status"]["traceback"]
    assert "about to fail" in run.logs() and "Traceback" in run.logs()


def test_unknown_handler_lists_the_functions_in_the_code() -> None:
    with pytest.raises(InvalidArgumentError, match="functions in the code: crash, echo, fails"):
        _fn().run(handler="ecko", local=True)
    assert fnrun.get_run_db().list_runs(project="t") == []  # refused before any run exists
    bare = fnrun.new_function("bare", kind="handler").with_code(body="def a(context):\n    pass\n")
    with pytest.raises(RunError, match="functions there: a"):  # no entry points: found at run time
        bare.run(handler="b")


def test_bad_input_errors_before_running() -> None:
    fn = _fn()
    with pytest.raises(InvalidArgumentError) as err:
        fn.run(handler="echo", params={"when": object()}, local=True)
    assert err.value.field == "params.when"
    with pytest.raises(InvalidArgumentError, match="deployed, not run"):
        fnrun.new_function("s", kind="serving").run()
    with pytest.raises(InvalidArgumentError, match="schedules are run by the fnrun service"):
        fn.run(handler="echo", local=True, schedule="0 * * * *")


def test_secret_values_never_reach_db_or_logs(fnrun_home: Path) -> None:
    secret = "AKIA-super-secret-123"
    run = _fn().run(handler="uses_secret", secrets={"ACCESS_KEY": secret}, local=True)
    assert "accesskey = ***" in run.logs()
    assert secret not in run.to_yaml()
    db_bytes = b"".join(p.read_bytes() for p in fnrun_home.glob("fnrun.db*"))
    assert secret.encode() not in db_bytes


def test_task_template_and_script_mode() -> None:
    fn = fnrun.code_to_function("script", filename=str(DATA / "code" / "script.py"), kind="job")
    task = fnrun.new_task("scripted", params={"p1": 4})
    run = fn.run(task, local=True)
    assert run.state() == "completed" and run.output("accuracy") == 8
    assert "script p1=4" in run.logs() and run.metadata["name"] == "scripted"


@pytest.mark.parametrize("with_block", [False, True])
def test_get_or_create_ctx_standalone_script(
    tmp_path: Path, fnrun_home: Path, with_block: bool
) -> None:
    body = "import fnrun\n" + (
        "with fnrun.get_or_create_ctx('train') as ctx:\n    ctx.log_result('acc', 0.75)\n"
        if with_block
        else "ctx = fnrun.get_or_create_ctx('train')\nctx.log_result('acc', 0.75)\n"
    )
    script = tmp_path / "standalone.py"
    script.write_text(body)
    env = {"FNRUN_HOME": str(fnrun_home), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, str(script)], check=True, env=env, cwd=tmp_path)
    runs = fnrun.get_run_db().list_runs(name="train")
    assert len(runs) == 1
    assert runs[0]["status"]["state"] == "completed" and runs[0]["status"]["results"] == {
        "acc": 0.75
    }


def test_standalone_script_crash_marks_error(tmp_path: Path, fnrun_home: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "import fnrun\nctx = fnrun.get_or_create_ctx('crashy')\nraise KeyError('k')\n"
    )
    env = {"FNRUN_HOME": str(fnrun_home), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True)
    assert proc.returncode == 1
    (run,) = fnrun.get_run_db().list_runs(name="crashy")
    assert run["status"]["state"] == "error" and "KeyError" in run["status"]["error"]


def test_missing_input_names_key_and_url(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    with pytest.raises(RunError, match=rf"input 'data': {missing} does not exist"):
        _fn().run(handler="echo", inputs={"data": missing}, local=True, watch=False)
    with pytest.raises(InvalidArgumentError, match="input 'data' must be a URL"):
        _fn().run(handler="echo", inputs={"data": 3}, local=True)  # type: ignore[dict-item]
