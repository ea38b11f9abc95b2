"""``import mlrun`` in function code: fnrun's surface, for that code only; the choice of the
real package; the parts fnrun does not do fail on use, naming themselves."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, RunError
from tests.marketplace.helpers import run_hub

pytest.importorskip("pandas")

CODE = textwrap.dedent(
    """
    import mlrun
    import mlrun.feature_store as fstore
    from mlrun.artifacts import TableArtifact
    from mlrun.datastore import DataItem
    from mlrun.execution import MLClientCtx
    from mlrun.feature_store import FeatureSet
    from typing import Union


    def check(context: MLClientCtx, table: Union[FeatureSet, DataItem] = None):
        context.logger.info("checking", exact=type(table) == DataItem, kind=table.meta.kind)
        from mlrun.utils import logger  # an import inside the handler, at run time
        logger.info("from mlrun's logger")
        context.log_result("exact_class", type(table) == DataItem)
        context.log_result("ctx_class", type(context).__name__)
        context.log_result("mlconf_project", mlrun.mlconf.default_project)
        context.log_artifact(TableArtifact("stats", df=table.as_df().describe()))


    def feature_store(context):
        fstore.get_offline_features("v")


    def framework(context):
        from mlrun.frameworks.sklearn import apply_mlrun
        apply_mlrun(model=None)


    def unknown(context):
        import mlrun.no_such_thing
    """
)


def _fn(tmp_path: Path) -> fnrun.BaseRuntime:
    path = tmp_path / "uses_mlrun.py"
    path.write_text(CODE)
    return fnrun.code_to_function("uses-mlrun", filename=str(path), kind="job")


def _dataset(tmp_path: Path) -> str:
    path = tmp_path / "maker.py"
    path.write_text(
        "import pandas as pd\n\n"
        "def make(context):\n"
        "    context.log_dataset('rows', df=pd.DataFrame({'a': [1, 2, 3]}))\n"
    )
    fn = fnrun.code_to_function("maker", filename=str(path), kind="job", handler="make")
    return str(fn.run(local=True).outputs["rows"])


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "child-process"])
def test_mlrun_code_gets_fnruns_objects(tmp_path: Path, in_process: bool) -> None:
    run = run_hub(_fn(tmp_path), in_process, handler="check", inputs={"table": _dataset(tmp_path)})
    assert run.outputs["exact_class"] is True  # mlrun.datastore.DataItem is fnrun's class
    assert run.outputs["ctx_class"] == "RunContext"
    assert run.outputs["mlconf_project"] == "default"
    assert run.artifact("stats").as_df().shape[1] == 1
    logs = run.logs()
    assert "checking exact=True kind='dataset'" in logs  # MLRun's structured logger fields
    assert "from mlrun's logger" in logs  # mlrun.utils.logger output is the run's


def test_nothing_else_in_the_process_sees_it(tmp_path: Path) -> None:
    run_hub(_fn(tmp_path), True, handler="check", inputs={"table": _dataset(tmp_path)})
    assert not [m for m in sys.modules if m == "mlrun" or m.startswith("mlrun.")]
    with pytest.raises(ModuleNotFoundError):
        __import__("mlrun")


@pytest.mark.parametrize(
    ("handler", "expect"),
    [
        ("feature_store", "mlrun.feature_store.get_offline_features is not supported by fnrun"),
        ("framework", "mlrun.frameworks.sklearn.apply_mlrun is not supported by fnrun"),
        ("unknown", "No module named 'mlrun.no_such_thing' in fnrun's MLRun import surface"),
    ],
)
def test_what_fnrun_does_not_do_fails_on_use_naming_it(
    tmp_path: Path, handler: str, expect: str
) -> None:
    with pytest.raises(RunError, match="failed") as err:
        _fn(tmp_path).run(handler=handler, local=True)
    assert expect in err.value.run.error  # type: ignore[attr-defined]


def test_the_real_package_can_be_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FNRUN_MLRUN", "mlrun")  # the real mlrun is not installed here
    with pytest.raises(RunError) as err:
        _fn(tmp_path).run(handler="check", local=True)
    assert "No module named 'mlrun'" in err.value.run.error  # type: ignore[attr-defined]
    monkeypatch.setenv("FNRUN_MLRUN", "auto")  # auto: fnrun's when mlrun is missing
    run = _fn(tmp_path).run(handler="check", inputs={"table": _dataset(tmp_path)}, local=True)
    assert run.outputs["exact_class"] is True
    monkeypatch.setenv("FNRUN_MLRUN", "both")
    with pytest.raises((RunError, InvalidArgumentError), match="FNRUN_MLRUN"):
        _fn(tmp_path).run(handler="check", local=True)


def test_surface_helpers_behave_as_mlruns() -> None:
    import fnrun.compat.mlrun as mlrun
    from fnrun.compat.mlrun import datastore, errors, utils

    assert datastore.parse_store_uri("store://models/p/m@u") == ("models", "p/m@u")
    assert datastore.parse_store_uri("store://p/key") == ("artifacts", "p/key")
    assert datastore.parse_store_uri("s3://b/k") == (None, "")
    data = {"a": {"b": 1}}
    assert utils.get_in(data, "a.b") == 1 and utils.get_in(data, "a.c", 7) == 7
    utils.update_in(data, "a.list", 3, append=True)
    assert data["a"]["list"] == [3]
    assert utils.create_class("collections.OrderedDict").__name__ == "OrderedDict"
    assert issubclass(errors.MLRunInvalidArgumentError, ValueError)
    with pytest.raises(AttributeError, match="not part of fnrun's MLRun import surface"):
        _ = mlrun.launch_the_rockets
    with pytest.raises(AttributeError, match="artifact_path, default_project"):
        _ = mlrun.mlconf.no_such_setting


def test_where_mlrun_is_installed_the_user_chooses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "site"
    (installed / "mlrun").mkdir(parents=True)
    (installed / "mlrun" / "__init__.py").write_text("WHICH = 'the real mlrun'\n")
    monkeypatch.syspath_prepend(str(installed))  # a package named mlrun is importable
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(installed),
                       os.environ.get("PYTHONPATH")])))  # fmt: skip
    code = tmp_path / "which.py"
    code.write_text(
        "import mlrun\n\ndef which(context):\n"
        "    context.log_result('which', getattr(mlrun, 'WHICH', mlrun.__name__))\n"
    )
    fn = fnrun.code_to_function("which", filename=str(code), kind="job", handler="which")
    answers = {}
    for choice in ("fnrun", "auto", "mlrun"):
        monkeypatch.setenv("FNRUN_MLRUN", choice)
        answers[choice] = fn.run(local=True).outputs["which"]  # a child process each
    assert answers == {
        "fnrun": "fnrun.compat.mlrun",  # the default: runs stay tracked by fnrun
        "auto": "the real mlrun",
        "mlrun": "the real mlrun",
    }
    sys.modules.pop("mlrun", None)


SELECTION = textwrap.dedent(
    """
    import os

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlrun
    import mlrun.datastore.targets as targets
    from mlrun.artifacts import PlotArtifact
    from mlrun.mlutils.plots import gcf_clear
    from mlrun.utils.helpers import create_class


    def select(context, df_artifact, label_column: str = "label"):
        # the shapes MLRun's feature-selection and archive functions use
        is_vector = bool(df_artifact.meta) and (
            df_artifact.meta.kind == mlrun.api.schemas.ObjectKind.feature_vector
        )
        kind, _ = mlrun.datastore.parse_store_uri(df_artifact.url)
        is_vector = is_vector or kind == mlrun.utils.StorePrefix.FeatureVector
        assert mlrun.utils.helpers.StorePrefix.kind_to_prefix("model") == "models"
        df = df_artifact.as_df()
        scorer = create_class("sklearn.feature_selection.f_classif")
        scores, _ = scorer(df.drop(columns=[label_column]), df[label_column])
        gcf_clear(plt)
        plt.bar(range(len(scores)), scores)
        context.log_artifact(
            PlotArtifact("scores", body=plt.gcf()),
            local_path=os.path.join("plots", "scores.html"),
        )
        gcf_clear(plt)
        target = os.path.join(context.artifact_path, "copied.parquet")
        df.to_parquet(target)
        context.log_dataset(key="copied", format="parquet", target_path=target)
        context.log_results({"vector": is_vector, "best": int(scores.argmax())})
        context.log_result("targets", targets.__name__)


    def unpack(context, archive_url, subdir: str = "content/", key: str = "content"):
        import zipfile
        from mlrun.artifacts.base import DirArtifact

        target = os.path.join(context.artifact_path, subdir)
        with zipfile.ZipFile(archive_url.local()) as ref:
            ref.extractall(target)
        context.log_artifact(DirArtifact(key=key, target_path=target))
    """
)


def test_feature_selection_and_archive_shapes(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    path = tmp_path / "select.py"
    path.write_text(SELECTION)
    fn = fnrun.code_to_function("select", filename=str(path), kind="job", handler="select")
    run = run_hub(fn, True, inputs={"df_artifact": str(data)}, artifact_path=str(tmp_path / "a"))
    assert run.outputs["vector"] is False and run.outputs["best"] == 0
    page = run.artifact("scores").get(encoding="utf-8")
    assert page.startswith("<html") and "data:image/png;base64," in page
    assert run.artifact("copied").as_df().shape == (40, 3)  # registered where it was written
    assert run.outputs["targets"] == "fnrun.compat.mlrun.datastore.targets"
    import zipfile

    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("d/one.txt", "1")
    unpacked = run_hub(fn, True, handler="unpack", inputs={"archive_url": str(tmp_path / "a.zip")},
                       artifact_path=str(tmp_path / "a"))  # fmt: skip
    folder = Path(unpacked.artifact("content").local())
    assert folder == tmp_path / "a" / "content" and (folder / "d" / "one.txt").read_text() == "1"
    assert unpacked.artifact("content").meta.spec.file_hashes["d/one.txt"]


DECORATED = textwrap.dedent(
    """
    import mlrun
    import pandas as pd


    @mlrun.handler(
        labels={"framework": "pandas"}, outputs=["summary", "doubled:dataset", "n:result"]
    )
    def crunch(data: pd.DataFrame, factor: int = 2):
        return data.describe(), data * factor, len(data)


    @mlrun.handler(outputs=["x:chart"])
    def bad_type(source: mlrun.DataItem):
        return 1
    """
)


def test_the_handler_decorator_logs_its_outputs_and_labels(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n3,4\n5,6\n")
    path = tmp_path / "decorated.py"
    path.write_text(DECORATED)
    fn = fnrun.code_to_function("crunch", filename=str(path), kind="job", handler="crunch")
    run = run_hub(fn, True, inputs={"data": str(data)}, params={"factor": 10})
    assert run.outputs["n"] == 3
    assert run.artifact("doubled").as_df().to_dict("list") == {"a": [10, 30, 50], "b": [20, 40, 60]}
    assert run.artifact("summary").meta.kind == "dataset"
    assert run.to_dict()["metadata"]["labels"]["framework"] == "pandas"
    with pytest.raises(RunError, match="unknown type 'chart'"):
        fn.run(handler="bad_type", inputs={"source": str(data)}, local=True)


SERVING_PATHS = textwrap.dedent(
    """
    from mlrun.serving.merger import Merge
    from mlrun.serving.remote import BatchHttpRequests, RemoteStep
    from mlrun.serving.routers import BaseModelRouter, VotingEnsemble
    from mlrun.serving.server import GraphServer
    from mlrun.serving.states import FlowStep, RouterStep, TaskStep
    from mlrun.serving.v2_serving import V2ModelServer


    def names(context):
        found = [Merge, BatchHttpRequests, RemoteStep, BaseModelRouter, VotingEnsemble,
                 GraphServer, FlowStep, RouterStep, TaskStep, V2ModelServer]
        context.log_result("classes", [f"{c.__module__}.{c.__name__}" for c in found])
    """
)


def test_mlrun_serving_module_paths_import(tmp_path: Path) -> None:
    """MLRun's serving module paths (``mlrun.serving.remote``, ``.merger``, ``.states``,
    ``.routers``, ``.v2_serving``) import in function code, and ``fnrun.serving.<same>`` holds
    the same classes for code written against fnrun."""
    from fnrun.serving import merger, remote, routers, states, v2_serving

    path = tmp_path / "paths.py"
    path.write_text(SERVING_PATHS)
    fn = fnrun.code_to_function("paths", filename=str(path), kind="job", handler="names")
    classes = fn.run(local=True, watch=False).output("classes")
    ours = [merger.Merge, remote.BatchHttpRequests, remote.RemoteStep, routers.BaseModelRouter,
            routers.VotingEnsemble, fnrun.serving.GraphServer, states.FlowStep,
            states.RouterStep, states.TaskStep, v2_serving.V2ModelServer]  # fmt: skip
    assert classes == [f"{c.__module__}.{c.__name__}" for c in ours]
