"""Nuclio: generated config field by field, the handler entry with nuclio-sdk's real Context
and Event, and the dashboard client against a local HTTP server that records the calls.
(No Nuclio processor or dashboard runs on this machine.)"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import FnrunError
from fnrun.runtimes.nuclio.config import ENTRY, nuclio_config
from fnrun.runtimes.nuclio.entry import SPEC_ENV

CODE = (
    "def handler(context, event):\n    return {'echo': event.body}\n\n"
    "def inc(x):\n    return x + 1\n"
)


def _serving(tmp_path: Path) -> fnrun.BaseRuntime:
    path = tmp_path / "steps.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("graph-fn", filename=str(path), kind="serving", project="nu")
    fn.set_topology("flow").to(handler="inc", name="inc")  # type: ignore[attr-defined]
    return fn


def test_config_of_a_nuclio_function_field_by_field(tmp_path: Path) -> None:
    from nuclio.triggers import CronTrigger

    path = tmp_path / "echo_fn.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function(
        "echo",
        filename=str(path),
        kind="nuclio",
        handler="handler",
        image="python:3.11-slim",
        project="nu",
    )
    fn.set_env("A", "1").with_limits(mem="1Gi", cpu="1").with_replicas(1, 3)  # type: ignore[attr-defined]
    fn.build_config(commands=["pip install numpy"])
    fn.add_kafka_trigger("k:9092", "in", consumer_group="g")  # type: ignore[attr-defined]
    fn.add_trigger("every5s", CronTrigger(interval="5s"))  # type: ignore[attr-defined]
    fn.add_volume({"name": "d", "emptyDir": {}}, {"mountPath": "/d"})  # type: ignore[attr-defined]
    config = nuclio_config(fn)
    spec = config["spec"]
    assert config["apiVersion"] == "nuclio.io/v1" and config["kind"] == "Function"
    assert config["metadata"]["name"] == "echo"
    assert config["metadata"]["labels"]["nuclio.io/project-name"] == "nu"
    assert spec["runtime"] == "python:3.11" and spec["handler"] == "echo_fn:handler"
    assert spec["env"] == [{"name": "A", "value": "1"}]
    assert base64.b64decode(spec["build"]["functionSourceCode"]).decode() == CODE
    assert spec["build"]["commands"] == ["pip install numpy"]
    assert spec["build"]["baseImage"] == "python:3.11-slim"
    assert spec["minReplicas"] == 1 and spec["maxReplicas"] == 3
    assert spec["resources"] == {"limits": {"memory": "1Gi", "cpu": "1"}}
    assert spec["triggers"]["kafka"]["kind"] == "kafka-cluster"
    assert spec["triggers"]["kafka"]["attributes"]["topics"] == ["in"]
    assert spec["triggers"]["every5s"] == {"kind": "cron", "attributes": {"interval": "5s"}}
    assert spec["triggers"]["http"]["kind"] == "http"
    assert spec["volumes"] == [
        {"volume": {"name": "d", "emptyDir": {}}, "volumeMount": {"name": "d", "mountPath": "/d"}}
    ]


def test_serving_config_uses_the_entry_and_carries_the_function(tmp_path: Path) -> None:
    fn = _serving(tmp_path)
    spec = nuclio_config(fn)["spec"]
    assert spec["handler"] == ENTRY
    (doc,) = [json.loads(e["value"]) for e in spec["env"] if e["name"] == SPEC_ENV]
    assert doc == fn.to_dict()
    assert "pip install fnrun" in spec["build"]["commands"]


def test_entry_module_runs_the_graph_with_nuclio_sdk_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nuclio_sdk = pytest.importorskip("nuclio_sdk", reason="nuclio-sdk not installed")
    from fnrun.runtimes.nuclio import entry as nuclio_entry

    fn = _serving(tmp_path)
    env = {e["name"]: e["value"] for e in nuclio_config(fn)["spec"]["env"]}
    monkeypatch.setenv(SPEC_ENV, env[SPEC_ENV])
    context = nuclio_sdk.Context(
        logger=nuclio_sdk.Logger(logging.DEBUG, "test"), platform=nuclio_sdk.Platform("local")
    )
    nuclio_entry.init_context(context)
    response = nuclio_entry.handler(
        context, nuclio_sdk.Event(body=b"41", path="/", content_type="application/json")
    )
    assert isinstance(response, nuclio_sdk.Response)
    assert response.status_code == 200 and json.loads(response.body) == 42
    bad = nuclio_entry.handler(context, nuclio_sdk.Event(body=b'"x"', path="/"))
    assert bad.status_code == 500 and json.loads(bad.body)["step"] == "inc"


class _Dashboard(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, Any, str]] = []
    states: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append(
            (self.command, self.path, body, self.headers.get("x-nuclio-project-name", ""))
        )
        return body

    def do_GET(self) -> None:
        self._record()
        if self.path == "/api/projects":
            self._reply(200, {})
        else:
            state = self.states.pop(0) if self.states else "ready"
            status: dict[str, Any] = {"state": state}
            if state == "ready":
                status["externalInvocationUrls"] = ["10.0.0.1:31000"]
            if state == "error":
                status["message"] = "build failed: no such base image"
            self._reply(200, {"metadata": {"name": "graph-fn"}, "status": status})

    def do_POST(self) -> None:
        self._record()
        self._reply(202 if self.path == "/api/functions" else 201, {})


@pytest.fixture
def dashboard() -> Iterator[str]:
    _Dashboard.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Dashboard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_deploy_through_the_dashboard_api(tmp_path: Path, dashboard: str) -> None:
    _Dashboard.states = ["building", "building", "ready"]
    fn = _serving(tmp_path)
    url = fn.deploy(platform="nuclio", dashboard_url=dashboard, timeout=30)  # type: ignore[attr-defined]
    assert url == "http://10.0.0.1:31000" and fn.status.state == "ready"
    methods = [(m, p) for m, p, _, _ in _Dashboard.calls]
    assert methods[:3] == [
        ("GET", "/api/projects"),
        ("POST", "/api/projects"),
        ("POST", "/api/functions"),
    ]
    assert methods[3:] == [("GET", "/api/functions/graph-fn")] * 3
    _, _, config, project = _Dashboard.calls[2]
    assert project == "nu" and config == nuclio_config(
        fn.__class__.from_dict({**fn.to_dict(), "status": {}})
    )


def test_dashboard_errors_are_clear(tmp_path: Path, dashboard: str) -> None:
    _Dashboard.states = ["error"]
    fn = _serving(tmp_path)
    with pytest.raises(FnrunError, match="nuclio deploy of graph-fn failed: build failed"):
        fn.deploy(platform="nuclio", dashboard_url=dashboard)  # type: ignore[attr-defined]
    with pytest.raises(
        FnrunError, match=r"cannot reach the nuclio dashboard at http://127\.0\.0\.1:9"
    ):
        fn.deploy(platform="nuclio", dashboard_url="http://127.0.0.1:9")  # type: ignore[attr-defined]
    with pytest.raises(fnrun.InvalidArgumentError, match="no nuclio dashboard URL"):
        fn.deploy(platform="nuclio")  # type: ignore[attr-defined]
