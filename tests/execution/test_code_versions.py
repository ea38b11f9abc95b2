"""A run of a code_to_function function runs its version's code; when the original file still
holds that code, __file__, sibling imports and tracebacks point at the user's file."""

from __future__ import annotations

from pathlib import Path

import pytest

import fnrun

CODE = """
import helper

def where(context):
    context.log_result("file", __file__)
    context.log_result("helper", helper.VALUE)
    context.log_result("version", 1)

def boom(context):
    raise ValueError("from the user's file")
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 'sibling'\n")
    path = folder / "train.py"
    path.write_text(CODE)
    return path


@pytest.mark.parametrize("kind, local", [("job", True), ("handler", False)])
def test_the_original_file_runs_when_it_holds_the_versions_code(
    code: Path, kind: str, local: bool
) -> None:
    fn = fnrun.code_to_function("where", filename=str(code), kind=kind, handler="where")
    run = fn.run(local=local) if local else fn.run()
    assert run.status.results["file"] == str(code.resolve())
    assert run.status.results["helper"] == "sibling"


def test_an_edited_file_does_not_change_what_the_version_runs(code: Path) -> None:
    fn = fnrun.code_to_function("where", filename=str(code), kind="job", handler="where")
    code.write_text(CODE.replace('"version", 1', '"version", 2'))
    run = fn.run(local=True)
    assert run.status.results["version"] == 1  # the saved version's code, not the edit
    assert run.status.results["file"] != str(code.resolve())
    assert run.status.results["helper"] == "sibling"  # sibling modules still import


def test_tracebacks_name_the_users_file(code: Path) -> None:
    fn = fnrun.code_to_function("boom", filename=str(code), kind="job", handler="boom")
    with pytest.raises(fnrun.RunError) as err:
        fn.run(local=True)
    assert f'File "{code.resolve()}"' in err.value.run.logs()
