"""The package is typed for its users: py.typed ships, and the factories are typed by kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fnrun

USER_CODE = """
import fnrun

serving = fnrun.new_function("s", kind="serving")
graph = serving.set_topology("flow")
graph.to(handler="h").respond()
serving.add_model("m", class_name="M")
job = fnrun.code_to_function("j", filename="x.py", handler="h")
job.with_limits(mem="1Gi")
run = job.run(params={"a": 1}, inputs={"d": "x.csv"}, returns=["r"], local=True)
state: str = run.status.state
imported = fnrun.import_function("graph.yaml", kind="serving")
imported.set_topology("flow").to(handler="h")
"""


def test_py_typed_ships_with_the_package() -> None:
    assert (Path(fnrun.__file__).parent / "py.typed").is_file()


def test_user_code_type_checks_without_ignores(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the dev extra")
    code = tmp_path / "user.py"
    code.write_text(USER_CODE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(code)],
        capture_output=True,
        text=True,
        # from the checkout (an editable install hides the package from mypy; a wheel finds it
        # through py.typed), with the project's mypy settings for untyped third-party modules
        cwd=Path(fnrun.__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "user.py"
    path.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        cwd=Path(fnrun.__file__).parent.parent,
    )


def test_run_options_are_typed_once_for_every_call(tmp_path: Path) -> None:
    """fn.run's options are one TypedDict (fnrun.execution.options): a misspelt option or a
    wrong type is a type error in user code, a schedule returns None."""
    pytest.importorskip("mypy", reason="mypy is in the dev extra")
    head = 'import fnrun\njob = fnrun.code_to_function("j", filename="x.py", handler="h")\n'
    good = _mypy(
        tmp_path,
        head
        + (
            "run = job.run(hyperparams={'p': [1, 2]}, hyper_param_options={'selector': 'max.r'},"
            " secrets={'K': 'v'}, watch=False, local=True)\n"
            "state: str = run.status.state\n"
            "none: None = job.run(schedule='*/5 * * * *', params={'a': 1})\n"
        ),
    )
    assert good.returncode == 0, good.stdout
    bad = _mypy(tmp_path, head + "job.run(parms={'a': 1})\njob.run(returns='r')\n")
    assert bad.returncode != 0
    assert '"parms"' in bad.stdout and "returns" in bad.stdout, bad.stdout


def test_import_function_checks_the_kind_it_is_typed_as(tmp_path: Path) -> None:
    from fnrun.errors import InvalidArgumentError

    path = tmp_path / "fn.yaml"
    fnrun.new_function("s", kind="serving").export(str(path))
    served = fnrun.import_function(str(path), kind="serving")
    assert served.kind == "serving" and hasattr(served, "set_topology")
    with pytest.raises(InvalidArgumentError, match="is a 'serving' function, not 'job'") as err:
        fnrun.import_function(str(path), kind="job")
    assert "kind='serving'" in err.value.hint
    assert fnrun.import_function(str(path)).kind == "serving"
