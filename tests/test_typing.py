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
