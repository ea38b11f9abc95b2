from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import ConflictError, InvalidArgumentError, NotFoundError
from tests.conftest import DATA


def test_build_config_merges_and_overwrites(tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("pandas>=2  # data\n\nscikit-learn\n")
    fn = fnrun.new_function("f", kind="job")
    fn.build_config(base_image="python:3.11", commands=["apt-get update"], requirements=["numpy"])
    fn.build_config(commands=["echo hi", "apt-get update"], requirements_file=str(reqs))
    build = fn.to_dict()["spec"]["build"]
    assert build["base_image"] == "python:3.11"
    assert build["commands"] == ["apt-get update", "echo hi"]
    assert build["requirements"] == ["numpy", "pandas>=2", "scikit-learn"]
    fn.build_config(requirements=str(reqs), overwrite=True)
    assert fn.spec.build.requirements == ["pandas>=2", "scikit-learn"]
    fn.build_config(commands=[], overwrite=True)
    assert fn.spec.build.commands == []


def test_build_config_errors(tmp_path: Path) -> None:
    fn = fnrun.new_function("f", kind="job")
    with pytest.raises(NotFoundError):
        fn.build_config(requirements_file=str(tmp_path / "nope.txt"))
    with pytest.raises(InvalidArgumentError, match="list of str"):
        fn.build_config(commands="echo")  # type: ignore[arg-type]


def test_with_source_archive_sets_fields(tmp_path: Path) -> None:
    fn = fnrun.new_function("f", kind="job")
    fn.with_source_archive(
        "git://github.com/org/repo.git#main",
        handler="mod.train",
        workdir="src",
        pull_at_runtime=False,
        target_dir="/code",
    )
    spec = fn.to_dict()["spec"]
    assert spec["build"]["source"] == "git://github.com/org/repo.git#main"
    assert spec["build"]["load_source_on_run"] is False
    assert (spec["default_handler"], spec["workdir"], spec["clone_target_dir"]) == (
        "mod.train",
        "src",
        "/code",
    )
    fn.with_source_archive(str(tmp_path))  # a local dir is a valid source


@pytest.mark.parametrize("bad", ["", "ftp://x/y", "https://example.com/page", "no/such/dir"])
def test_bad_sources(bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        fnrun.new_function("f", kind="job").with_source_archive(bad)


def test_code_and_source_archive_are_exclusive() -> None:
    fn = fnrun.code_to_function(filename=str(DATA / "code" / "trainer.py"))
    with pytest.raises(ConflictError, match="exclusive"):
        fn.with_source_archive("git://github.com/org/repo.git")
    with pytest.raises(ConflictError):
        fn.build_config(source="git://github.com/org/repo.git")
    fn.with_code(body="")
    fn.with_source_archive("git://github.com/org/repo.git")
    with pytest.raises(ConflictError):
        fn.with_code(body="print(1)")


def test_with_code_from_file() -> None:
    path = DATA / "code" / "trainer.py"
    fn = fnrun.new_function("f", kind="job").with_code(from_file=str(path))
    assert fn.code == path.read_text()
    with pytest.raises(NotFoundError):
        fn.with_code(from_file="missing.py")
