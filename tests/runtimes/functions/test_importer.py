from __future__ import annotations

import base64
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import fnrun
from fnrun.errors import InvalidArgumentError, NotFoundError, SchemaError
from fnrun.runtimes.functions.importer import parse_db_uri
from tests.conftest import HUB_SAMPLE

HUB_FILES = sorted(HUB_SAMPLE.glob("*/function.yaml"))


def _raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_hub_sample_is_present() -> None:
    assert len(HUB_FILES) == 5


@pytest.mark.parametrize("path", HUB_FILES, ids=lambda p: p.parent.name)
def test_hub_function_yaml_imports_and_keeps_what_it_carries(path: Path) -> None:
    raw = _raw(path)
    fn = fnrun.import_function(str(path))
    spec = raw["spec"]
    assert fn.kind == raw["kind"] and fn.metadata.name == raw["metadata"]["name"]
    assert fn.spec.image == spec.get("image", "")
    assert fn.spec.default_handler == spec.get("default_handler", "")
    assert fn.spec.entry_points.keys() == spec.get("entry_points", {}).keys()
    code = spec.get("build", {}).get("functionSourceCode") or spec.get("base_spec", {}).get(
        "spec", {}
    ).get("build", {}).get("functionSourceCode")
    assert fn.code == base64.b64decode(code).decode()
    assert fn.spec.env == (spec.get("env") or [])
    out = fn.to_dict()["spec"]
    assert out.get("build", {}).get("functionSourceCode") == spec.get("build", {}).get(
        "functionSourceCode"
    )
    for name, entry in spec.get("entry_points", {}).items():
        params = {p["name"]: p for p in entry.get("parameters", [])}
        got = {p["name"]: p for p in out["entry_points"][name].get("parameters", [])}
        assert got.keys() == params.keys()
        for pname, param in params.items():  # defaults (also explicit null) survive
            assert got[pname].get("default", "absent") == param.get("default", "absent")
    # a second round trip changes nothing
    assert fnrun.new_function(runtime=fn.to_dict()).to_dict() == fn.to_dict()


def test_typo_in_hand_written_yaml_names_key_and_close_match(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("kind: job\nmetadata: {name: a}\nspec:\n  comand: run.py\n")
    with pytest.raises(SchemaError) as err:
        fnrun.import_function(str(path))
    assert err.value.field == "spec.comand"
    assert "did you mean 'command'?" in str(err.value)


def test_wrong_type_names_field_and_expected_type(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("kind: job\nmetadata: {name: a}\nspec:\n  replicas: three\n")
    with pytest.raises(SchemaError) as err:
        fnrun.import_function(str(path))
    assert err.value.field == "spec.replicas" and "expected int" in str(err.value)


def test_top_level_typo(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("kind: job\nmetdata: {name: a}\n")
    with pytest.raises(SchemaError, match="did you mean 'metadata'"):
        fnrun.import_function(str(path))


def test_missing_file_and_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        fnrun.import_function(str(tmp_path / "nope.yaml"))
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(SchemaError, match="not a function document"):
        fnrun.import_function(str(tmp_path / "list.yaml"))


def test_export_yaml_and_json_round_trip(tmp_path: Path) -> None:
    fn = fnrun.import_function(str(HUB_FILES[0]))
    for suffix in ("yaml", "json"):
        target = tmp_path / f"out.{suffix}"
        fn.export(str(target))
        assert fnrun.import_function(str(target)) == fn


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HUB_SAMPLE))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_import_from_http_url(http_root: str) -> None:
    fn = fnrun.import_function(f"{http_root}/describe/function.yaml")
    assert fn.metadata.name == "describe" and fn.spec.default_handler == "analyze"
    with pytest.raises(NotFoundError, match="HTTP 404"):
        fnrun.import_function(f"{http_root}/nope/function.yaml")


def test_import_from_db_by_tag_and_hash_with_overrides() -> None:
    fn = fnrun.import_function(str(HUB_FILES[0]))
    fn.metadata.project = "hub"
    uri = fn.save(tag="v1")
    hash_key = fn.metadata.hash
    assert uri == f"db://hub/{fn.metadata.name}@{hash_key}"
    by_tag = fnrun.import_function(f"db://hub/{fn.metadata.name}:v1")
    by_hash = fnrun.import_function(
        f"db://hub/{fn.metadata.name}@{hash_key}", project="other", new_name="renamed"
    )
    assert by_tag.spec.to_dict() == fn.spec.to_dict() and by_tag.metadata.tag == "v1"
    assert by_hash.metadata.project == "other" and by_hash.metadata.name == "renamed"
    assert by_hash.code == fn.code


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("db://p/f", ("p", "f", "", "")),
        ("db://p/f:v2", ("p", "f", "v2", "")),
        ("db://p/f@abc123", ("p", "f", "", "abc123")),
        ("db://p/f:t@abc", ("p", "f", "t", "abc")),
    ],
)
def test_parse_db_uri(uri: str, parts: tuple[str, ...]) -> None:
    assert parse_db_uri(uri) == parts


def test_malformed_db_uri_and_hub_scheme() -> None:
    with pytest.raises(InvalidArgumentError, match="malformed function URI"):
        fnrun.import_function("db://only-project")
    with pytest.raises(InvalidArgumentError, match="malformed hub URI"):
        fnrun.import_function("hub://describe:bad tag")
