from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.runtimes.functions.factory import normalize_name
from fnrun.runtimes.functions.kinds import (
    DaskRuntime,
    HandlerRuntime,
    KubejobRuntime,
    LocalRuntime,
    MPIJobRuntime,
    NuclioRuntime,
    RemoteSparkRuntime,
    ServingRuntime,
    SparkRuntime,
)
from tests.conftest import DATA

TRAINER = str(DATA / "code" / "trainer.py")

KINDS = {
    "handler": HandlerRuntime,
    "local": LocalRuntime,
    "job": KubejobRuntime,
    "dask": DaskRuntime,
    "mpijob": MPIJobRuntime,
    "spark": SparkRuntime,
    "remote-spark": RemoteSparkRuntime,
    "nuclio": NuclioRuntime,
    "serving": ServingRuntime,
}


@pytest.mark.parametrize(("kind", "cls"), list(KINDS.items()))
def test_new_function_every_kind_round_trips(kind: str, cls: type) -> None:
    fn = fnrun.new_function(
        "my_fn",
        project="p",
        tag="v1",
        kind=kind,
        command="run.py",
        image="python:3.11",
        args=["--x", "1"],
    )
    assert type(fn) is cls and fn.kind == kind
    assert fn.metadata.name == "my-fn"
    doc = fn.to_dict()
    assert doc["kind"] == kind and doc["spec"]["args"] == ["--x", "1"]
    assert fnrun.new_function(runtime=doc) == fn
    assert fnrun.new_function(runtime=fn).to_yaml() == fn.to_yaml()


def test_kinds_registry_lists_all_and_mlrun_aliases() -> None:
    assert set(KINDS) <= set(fnrun.kinds())
    assert type(fnrun.new_function("x", kind="remote")) is NuclioRuntime
    assert type(fnrun.new_function("x")) is LocalRuntime


def test_unknown_kind_suggests_and_names_every_kind() -> None:
    with pytest.raises(InvalidArgumentError, match="did you mean 'dask'") as err:
        fnrun.new_function("x", kind="dusk")
    assert f"kinds: {', '.join(fnrun.kinds())}" in str(err.value)
    with pytest.raises(InvalidArgumentError, match=r"kinds: .*job.*serving"):
        fnrun.new_function("x", kind="zzzz")


def test_capabilities_are_class_attributes() -> None:
    assert KubejobRuntime.is_batch and KubejobRuntime.is_kubernetes
    assert ServingRuntime.is_deployable and not ServingRuntime.is_batch
    assert not LocalRuntime.is_kubernetes


def test_code_to_function_embeds_code_and_documents_entry_points() -> None:
    fn = fnrun.code_to_function(
        "trainer",
        filename=TRAINER,
        kind="job",
        handler="train",
        image="python:3.11",
        requirements=["numpy"],
        labels={"a": "b"},
    )
    assert fn.code == Path(TRAINER).read_text()
    assert fn.spec.build.function_source_code  # base64 in spec.build.functionSourceCode
    doc = fn.to_dict()
    assert doc["spec"]["build"]["functionSourceCode"]
    assert doc["spec"]["default_handler"] == "train"
    assert doc["spec"]["build"]["requirements"] == ["numpy"]
    assert set(doc["spec"]["entry_points"]) == {"train", "prep"}
    assert fnrun.new_function(runtime=doc).code == fn.code


def test_code_to_function_defaults_name_from_file_and_no_embed() -> None:
    fn = fnrun.code_to_function(filename=TRAINER, embed_code=False)
    assert fn.metadata.name == "trainer" and fn.kind == "job"
    assert fn.spec.command == TRAINER and not fn.code


def test_code_to_function_unknown_handler_lists_functions() -> None:
    with pytest.raises(InvalidArgumentError, match="functions in the file: prep, train"):
        fnrun.code_to_function(filename=TRAINER, handler="tran")


def test_code_to_function_missing_file() -> None:
    with pytest.raises(NotFoundError, match="code file not found"):
        fnrun.code_to_function(filename="nope.py")


def test_code_to_function_nuclio_sets_function_handler() -> None:
    fn = fnrun.code_to_function(filename=TRAINER, kind="nuclio", handler="train")
    assert fn.spec.function_handler == "trainer:train"


def test_code_to_function_notebook(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat", reason="nbformat (fnrun[notebook]) not installed")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# nuclio: ignore\nprint('not in the function')"),
        nbformat.v4.new_code_cell(
            "def train(context, p1: int = 1):\n    '''Train.'''\n    return p1\n"
        ),
    ]
    path = tmp_path / "nb_train.ipynb"
    nbformat.write(nb, str(path))
    fn = fnrun.code_to_function(filename=str(path), kind="job", handler="train")
    assert fn.metadata.name == "nb-train"
    assert "def train(context" in fn.code and "not in the function" not in fn.code
    assert fn.spec.entry_points["train"].doc == "Train."


@pytest.mark.parametrize("bad", ["", "-x", "a" * 64, "x!"])
def test_bad_names(bad: str) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid function name"):
        normalize_name(bad)


def test_doc_lists_handlers_and_params(capsys: pytest.CaptureFixture[str]) -> None:
    fn = fnrun.code_to_function(filename=TRAINER, handler="train", description="trains")
    fn.doc()
    out = capsys.readouterr().out
    assert "trains" in out and "default handler: train" in out
    assert "p1(int) - number of epochs" in out and "default=1" in out
    assert "context" not in out.split("entry point: train")[1].split("\n")[1]
