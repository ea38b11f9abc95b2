"""``hub://`` resolution against real MLRun hub items (tests/data/hub-sample, unmodified):
a directory in the source-repository layout, and the published layout (catalog.json +
``functions/<channel>/<name>/<tag>/src/function.yaml``) served over real HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, NotFoundError
from tests.conftest import HUB_SAMPLE, free_port
from tests.marketplace.helpers import serve_directory

NAMES = ("aggregate", "describe", "gen_class_data", "load_dataset", "v2_model_server")


def _published(root: Path, hidden: str = "") -> Path:
    """MLRun's published layout of the sample, every catalog version a copy of the sample's
    function.yaml (the catalog subset is older than the yaml files)."""
    catalog = json.loads((HUB_SAMPLE / "catalog.subset.json").read_text())
    channel = root / "functions" / "master"
    for name in NAMES:
        for tag in catalog[name]:
            target = channel / name / tag / "src"
            target.mkdir(parents=True)
            shutil.copy(HUB_SAMPLE / name / "function.yaml", target / "function.yaml")
        if name == hidden:
            for entry in catalog[name].values():
                entry["hidden"] = True
    (channel / "catalog.json").write_text(json.dumps(catalog))
    return root


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    with serve_directory(_published(tmp_path / "hub")) as served:
        yield served


def test_a_directory_in_the_source_layout_resolves_names_tags_and_dashes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"sample={HUB_SAMPLE}")
    fn = fnrun.import_function("hub://describe")
    assert fn.kind == "job" and fn.spec.default_handler == "analyze"
    assert fn.metadata.annotations["fnrun/hub-origin"] == "hub://sample/describe:1.5.0"
    dashed = fnrun.import_function("hub://gen-class-data")  # '-' is '_' on the hub
    assert dashed.metadata.annotations["fnrun/hub-origin"].startswith(
        "hub://sample/gen_class_data:"
    )
    assert fnrun.import_function("hub://sample/describe:1.5.0").metadata.name == fn.metadata.name
    with pytest.raises(NotFoundError, match=r"no version '9\.9\.9'") as err:
        fnrun.import_function("hub://describe:9.9.9")
    assert "1.5.0" in err.value.hint and "latest" in err.value.hint


def test_an_unknown_name_names_the_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"sample={HUB_SAMPLE}")
    with pytest.raises(NotFoundError, match="no hub item 'describ' in sample") as err:
        fnrun.import_function("hub://describ")
    assert "did you mean describe" in err.value.hint
    with pytest.raises(NotFoundError, match="no hub source 'elsewhere'"):
        fnrun.import_function("hub://elsewhere/describe")


def test_the_published_layout_over_http_with_versions(
    served: tuple[str, ThreadingHTTPServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = served
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"web={url}")
    latest = fnrun.import_function("hub://describe")
    catalog = json.loads((HUB_SAMPLE / "catalog.subset.json").read_text())
    version = catalog["describe"]["latest"]["version"]
    assert latest.metadata.annotations["fnrun/hub-origin"] == f"hub://web/describe:{version}"
    assert latest.metadata.annotations["fnrun/hub-location"] == (
        f"{url}/functions/master/describe/latest/src/function.yaml"
    )
    pinned = fnrun.import_function("hub://describe:1.2.0")
    assert pinned.metadata.annotations["fnrun/hub-origin"] == "hub://web/describe:1.2.0"


def test_downloads_are_cached_by_hash_and_checked(
    served: tuple[str, ThreadingHTTPServer], monkeypatch: pytest.MonkeyPatch, fnrun_home: Path
) -> None:
    url, server = served
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"web={url}")
    fnrun.import_function("hub://describe:1.2.0")
    fnrun.import_function("hub://describe")
    server.shutdown()  # the hub goes away: what was fetched is still there, said so
    server.server_close()
    with pytest.warns(UserWarning, match="catalog.json is unreachable .* the cached copy"):
        assert fnrun.import_function("hub://describe:1.2.0").kind == "job"
    with pytest.warns(UserWarning, match="latest/src/function.yaml is unreachable"):
        assert fnrun.import_function("hub://describe").kind == "job"
    cache = fnrun_home / "hub-cache"
    index = json.loads((cache / "index.json").read_text())
    stored = cache / f"{index[f'{url}/functions/master/describe/1.2.0/src/function.yaml']}.yaml"
    stored.write_text(stored.read_text() + "\n# changed\n")  # tampered with: not trusted
    with (
        pytest.warns(UserWarning),
        pytest.raises(NotFoundError, match=r"cannot fetch .*1\.2\.0/src/function\.yaml"),
    ):
        fnrun.import_function("hub://describe:1.2.0")
    assert not stored.exists()
    with pytest.warns(UserWarning), pytest.raises(NotFoundError, match="'aggregat'") as err:
        fnrun.import_function("hub://aggregat")  # the cached catalog still names the items
    assert "did you mean aggregate" in err.value.hint


def test_a_hidden_item_needs_its_source_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _published(tmp_path / "hub", hidden="aggregate")
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"team={root}")
    with pytest.raises(InvalidArgumentError, match="hidden or deprecated") as err:
        fnrun.import_function("hub://aggregate")
    assert "hub://team/aggregate:latest" in err.value.hint
    assert fnrun.import_function("hub://team/aggregate").kind == "job"


def test_an_unreachable_hub_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"down={down}")
    with pytest.raises(NotFoundError, match="cannot reach the hub to find describe: down"):
        fnrun.import_function("hub://describe")
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"down={down},sample={HUB_SAMPLE}")
    assert fnrun.import_function("hub://describe").kind == "job"  # the next source has it
    with pytest.raises(NotFoundError, match="no hub item 'nothing'") as err:
        fnrun.import_function("hub://nothing")
    assert "not reached: down" in err.value.hint


def test_the_origin_is_kept_through_save_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"sample={HUB_SAMPLE}")
    fn = fnrun.import_function("hub://describe", project="hubp")
    uri = fn.save()
    again = fnrun.import_function(uri)
    assert again.metadata.annotations["fnrun/hub-origin"] == "hub://sample/describe:1.5.0"
    fn.export(str(tmp_path / "fn.yaml"))
    assert "hub://sample/describe:1.5.0" in (tmp_path / "fn.yaml").read_text()


def test_sources_are_kept_in_the_home(monkeypatch: pytest.MonkeyPatch) -> None:
    from fnrun.errors import ConflictError
    from fnrun.marketplace import add_source, hub_sources, remove_source

    monkeypatch.delenv("FNRUN_HUB_SOURCES", raising=False)
    # by default: the bundled hub, then MLRun's public hub
    assert hub_sources()[0].location == "bundled"
    assert [s.name for s in hub_sources()] == ["fnrun", "mlrun"]
    add_source("sample", str(HUB_SAMPLE), first=True)
    assert [s.name for s in hub_sources()] == ["sample", "fnrun", "mlrun"]
    assert fnrun.import_function("hub://describe").kind == "job"  # offline: sample first
    with pytest.raises(ConflictError):
        add_source("sample", "/elsewhere")
    remove_source("mlrun")
    assert [s.name for s in hub_sources()] == ["sample", "fnrun"]
    with pytest.raises(NotFoundError, match="no hub source 'mlrun'"):
        remove_source("mlrun")
    with pytest.raises(InvalidArgumentError, match="invalid hub source name"):
        add_source("Bad Name", "/x")
