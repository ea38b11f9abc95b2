"""Projects: functions stored and versioned through one object, runs and artifacts, and a
project.yaml that exports and loads back."""

from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.serialize import from_yaml

TRAIN = """
def train(context, lr: float = 0.1, epochs: int = 1):
    context.log_result("score", lr * epochs)
"""


@pytest.fixture
def context(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "train.py").write_text(TRAIN)
    return folder


def test_set_function_saves_a_version_and_run_function_uses_project_params(context: Path) -> None:
    project = fnrun.new_project("shop", context=str(context), params={"epochs": 3})
    fn = project.set_function("src/train.py", name="trainer", kind="job", handler="train")
    assert fn.metadata.project == "shop" and fn.metadata.hash
    saved = fnrun.import_function("db://shop/trainer")
    assert saved.metadata.hash == fn.metadata.hash
    run = project.run_function("trainer", params={"lr": 0.5}, local=True)
    assert run.metadata.project == "shop" and run.status.results["score"] == 1.5
    assert [r.uid() for r in project.list_runs()] == [run.uid()]
    assert [f.metadata.name for f in project.list_functions()] == ["trainer"]


def test_project_yaml_exports_and_loads_back(context: Path) -> None:
    project = fnrun.new_project("shop", context=str(context), description="a shop")
    project.set_function("src/train.py", name="trainer", kind="job", handler="train", tag="v1")
    path = project.export()
    doc = from_yaml(Path(path).read_text())
    assert doc["kind"] == "project" and doc["metadata"] == {"name": "shop"}
    assert doc["spec"]["functions"] == [
        {"url": "src/train.py", "kind": "job", "handler": "train", "name": "trainer", "tag": "v1"}
    ]
    moved = context.parent / "elsewhere"
    context.rename(moved)  # the file keeps paths relative to the context
    loaded = fnrun.load_project(str(moved))
    assert loaded.name == "shop" and loaded.description == "a shop"
    assert loaded.get_function("trainer").spec.default_handler == "train"
    again = fnrun.get_or_create_project("shop", context=str(moved))
    assert again.function_names() == ["trainer"]


def test_new_project_refuses_an_existing_one_and_get_or_create_reuses_it(context: Path) -> None:
    fnrun.new_project("shop", context=str(context)).set_function(
        "src/train.py", name="trainer", handler="train"
    )
    with pytest.raises(InvalidArgumentError, match="already exists"):
        fnrun.new_project("shop", context=str(context))
    other = fnrun.get_or_create_project("shop", context=str(context / "nothing-here"))
    assert other.function_names() == ["trainer"]  # from the run DB
    fresh = fnrun.get_or_create_project("brand-new", context=str(context / "x"))
    assert fresh.function_names() == []


def test_log_artifact_and_get_artifact_uri(context: Path) -> None:
    project = fnrun.new_project("shop", context=str(context))
    project.log_artifact("prices", body="item,price\na,1\n", format="csv")
    uri = project.get_artifact_uri("prices")
    assert uri == "store://artifacts/shop/prices"
    item = fnrun.get_dataitem(uri)
    assert item.get() == b"item,price\na,1\n"
    assert item.meta["spec"]["producer"]["kind"] == "project"
    assert project.get_artifact_uri("m", category="model", tag="v2", iter=1) == (
        "store://models/shop/m#1:v2"
    )


def test_unknown_functions_and_files_are_clear_errors(context: Path) -> None:
    project = fnrun.new_project("shop", context=str(context))
    with pytest.raises(NotFoundError, match="has no function 'nope'"):
        project.get_function("nope")
    with pytest.raises(NotFoundError, match="no project file"):
        fnrun.load_project(str(context / "missing"))
    with pytest.raises(InvalidArgumentError):
        fnrun.new_project("../escape", context=str(context))


def test_run_function_takes_mlruns_selector_spelling(context: Path) -> None:
    project = fnrun.new_project("shop", context=str(context))
    project.set_function("src/train.py", name="trainer", kind="job", handler="train")
    run = project.run_function(
        "trainer", hyperparams={"lr": [0.1, 0.7, 0.3]}, selector="max.score", local=True
    )
    assert run.status.results["best_iteration"] == 2 and run.status.results["score"] == 0.7
