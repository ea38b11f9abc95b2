"""``fnrun hub build``: function sources -> a published hub, used over real HTTP; items made
from code; versions side by side; a published version never silently replaced."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fnrun
from fnrun.cli import app
from fnrun.errors import ConflictError, InvalidArgumentError
from fnrun.marketplace.build import build_hub, version_key
from fnrun.marketplace.sources import BUNDLED_DIR
from tests.marketplace.helpers import serve_directory

HELLO = '''
"""Say hello to someone."""


def hello(context, name: str = "world", times: int = 1):
    """Greet ``name``.

    :param name: who to greet
    :param times: how many times
    """
    context.log_result("greeting", " ".join([f"{VERSION} hello {name}"] * times))
'''


def _source(root: Path, version: str = "", greeting: str = "v1") -> Path:
    folder = root / "hello"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello.py").write_text(textwrap.dedent(HELLO) + f"\nVERSION = {greeting!r}\n")
    if version:
        item = {"name": "hello", "version": version, "description": "hello", "spec": {}}
        (folder / "item.yaml").write_text(json.dumps(item))
    return root


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FNRUN_PROGRESS", "0")


def test_the_bundled_hub_builds_and_serves_over_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sklearn")
    out = tmp_path / "hub"
    built = build_hub(BUNDLED_DIR, out)
    assert {b.name for b in built} >= {"make_dataset", "sklearn_server", "train_sklearn"}
    assert next(b for b in built if b.name == "sklearn_server").kind == "serving"
    catalog = json.loads((out / "functions" / "master" / "catalog.json").read_text())
    assert catalog["make_dataset"]["latest"]["version"] == "1.0.0"
    src = out / "functions" / "master" / "make_dataset" / "1.0.0" / "src"
    assert {p.name for p in src.iterdir()} == {"function.yaml", "item.yaml", "make_dataset.py"}
    assert str(tmp_path) not in (src / "function.yaml").read_text()  # no builder paths
    assert all(b.unchanged for b in build_hub(BUNDLED_DIR, out))  # a rebuild changes nothing
    with serve_directory(out) as (url, _):
        monkeypatch.setenv("FNRUN_HUB_SOURCES", f"team={url}")
        fn = fnrun.import_function("hub://make-dataset:1.0.0")
        assert fn.metadata.annotations["fnrun/hub-origin"] == "hub://team/make_dataset:1.0.0"
        run = fn.run(params={"n_samples": 50, "n_features": 2}, local=True)
        assert run.artifact("dataset").as_df().shape == (50, 3)


def test_an_item_is_made_from_code_when_it_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "hub"
    (built,) = build_hub(_source(tmp_path / "src"), out)
    assert (built.name, built.version, built.kind, built.made_item) == (
        "hello",
        "0.1.0",
        "job",
        True,
    )
    item = (out / "functions" / "master" / "hello" / "0.1.0" / "src" / "item.yaml").read_text()
    assert "description: Say hello to someone." in item and "handler: hello" in item
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"team={out}")
    run = fnrun.import_function("hub://hello").run(params={"name": "ann", "times": 2}, local=True)
    assert run.outputs["greeting"] == "v1 hello ann v1 hello ann"
    point = fnrun.import_function("hub://hello").spec.entry_points["hello"]
    assert [(p.name, p.type, p.doc) for p in point.parameters[1:]] == [
        ("name", "str", "who to greet"),
        ("times", "int", "how many times"),
    ]


def test_versions_live_side_by_side_and_are_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "hub"
    build_hub(_source(src, "1.9.0", "old"), out)
    build_hub(_source(src, "1.10.0", "new"), out)  # 1.10 is after 1.9
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"team={out}")
    greet = {
        tag: fnrun.import_function(f"hub://hello:{tag}").run(local=True).outputs["greeting"]
        for tag in ("1.9.0", "1.10.0", "latest")
    }
    assert greet == {"1.9.0": "old hello world", "1.10.0": "new hello world",
                     "latest": "new hello world"}  # fmt: skip
    with pytest.raises(ConflictError, match="already published") as err:
        build_hub(_source(src, "1.10.0", "changed"), out)
    assert "raise the version" in err.value.hint
    assert fnrun.import_function("hub://hello:1.10.0").run(local=True).outputs["greeting"] == (
        "new hello world"
    )
    build_hub(_source(src, "1.10.0", "changed"), out, force=True)
    run = fnrun.import_function("hub://hello:1.10.0").run(local=True)
    assert run.outputs["greeting"] == "changed hello world"
    # an older version built later does not take latest
    build_hub(_source(src, "1.2.0", "older"), out)
    latest = fnrun.import_function("hub://hello").run(local=True).outputs["greeting"]
    assert latest == "changed hello world"
    assert version_key("1.10.0") > version_key("1.9.2") > version_key("1.9")


def test_bad_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(fnrun.NotFoundError, match="no function sources"):
        build_hub(tmp_path, tmp_path / "out")
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "two.py").write_text("def a(context):\n    pass\n\ndef b(context):\n    pass\n")
    with pytest.raises(InvalidArgumentError, match="cannot tell which function") as err:
        build_hub(tmp_path, tmp_path / "out")
    assert "functions: a, b" in err.value.hint


def test_the_cli_builds(tmp_path: Path) -> None:
    src = _source(tmp_path / "src")
    done = CliRunner().invoke(app, ["hub", "build", str(src), "--out", str(tmp_path / "hub")])
    assert done.exit_code == 0, done.output
    assert "hello" in done.output and "item.yaml made from the code" in done.output
    again = CliRunner().invoke(app, ["hub", "build", str(src), "--out", str(tmp_path / "hub")])
    assert "unchanged" in again.output


def test_one_name_rule_for_dashes_and_underscores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item named ``acc-tool`` in folder ``acc_tool`` (MLRun's hub lays items out so:
    ``load-dataset`` under ``load_dataset``) is found as ``hub://acc-tool`` and
    ``hub://acc_tool``, built or read from its source folder."""
    src = tmp_path / "src"
    folder = src / "acc_tool"
    folder.mkdir(parents=True)
    (folder / "acc_tool.py").write_text(textwrap.dedent(HELLO) + "\nVERSION = 'acc'\n")
    item = {"name": "acc-tool", "version": "1.0.0", "spec": {"filename": "acc_tool.py",
            "handler": "hello", "kind": "job"}}  # fmt: skip
    (folder / "item.yaml").write_text(json.dumps(item))
    out = tmp_path / "hub"
    (built,) = build_hub(src, out)
    assert built.name == "acc_tool"
    assert (out / "functions" / "master" / "acc_tool" / "1.0.0" / "src").is_dir()
    for location in (out, src):  # the published hub, and the unbuilt sources
        monkeypatch.setenv("FNRUN_HUB_SOURCES", f"team={location}")
        for uri in ("hub://team/acc-tool", "hub://acc_tool:1.0.0", "hub://acc-tool"):
            fn = fnrun.import_function(uri)
            assert fn.run(params={"name": "x"}, local=True).outputs["greeting"] == "acc hello x"
