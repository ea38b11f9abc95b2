"""RemoteStep, BatchHttpRequests and add_model(model_url=) against a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import fnrun

pytest.importorskip("httpx", reason="httpx not installed")


class Remote:
    """A real HTTP server: ``/echo`` answers what it got, ``/flaky`` fails with 503 until its
    countdown runs out, ``/bad`` answers 400, ``/slow`` sleeps, ``/v2/models/m/<op>`` answers
    like a model server."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.flaky_failures = 0
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(size) if size else b""
                body = json.loads(raw) if raw else None
                remote.calls.append(
                    {
                        "path": self.path,
                        "method": self.command,
                        "body": body,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )
                if self.path == "/flaky" and remote.flaky_failures > 0:
                    remote.flaky_failures -= 1
                    return self._answer(503, {"error": "busy"})
                if self.path == "/bad":
                    return self._answer(400, {"error": "no such feature"})
                if self.path == "/slow":
                    time.sleep(1.0)
                if self.path.startswith("/v2/models/m/"):
                    op = self.path.rsplit("/", 1)[1]
                    rows = (body or {}).get("inputs", [])
                    return self._answer(200, {"op": op, "outputs": [sum(r) for r in rows]})
                if self.path == "/text":
                    return self._raw(200, b"plain words", "application/octet-stream")
                if self.path == "/plain-json":
                    return self._raw(200, b"[1, 2]", "text/plain")
                if self.path == "/plain-words":
                    return self._raw(200, b"not json", "text/plain")
                if self.path == "/double":
                    return self._answer(200, body * 2)
                self._answer(200, {"got": body, "path": self.path})

            def _answer(self, status: int, payload: Any) -> None:
                self._raw(status, json.dumps(payload).encode(), "application/json")

            def _raw(self, status: int, data: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.httpd.shutdown()


def _flow(engine: str, **step_args: Any) -> Any:
    fn = fnrun.new_function("remote", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to("RemoteStep", name="call", **step_args).respond()
    return fn.to_mock_server()  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_remote_step_posts_the_body_with_event_id_and_path(remote: Remote, engine: str) -> None:
    server = _flow(engine, url=remote.url, subpath="echo", headers={"x-key": "k1"})
    out = server.test("/predict/this", body={"x": 1}, event_id="ev-7")
    assert out == {"got": {"x": 1}, "path": "/echo"}
    call = remote.calls[-1]
    assert call["method"] == "POST" and call["headers"]["x-request-id"] == "ev-7"
    assert call["headers"]["x-fnrun-event-path"] == "/predict/this"
    assert call["headers"]["x-key"] == "k1"


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_retries_5xx_with_backoff_then_succeeds(remote: Remote, engine: str) -> None:
    remote.flaky_failures = 2
    server = _flow(engine, url=f"{remote.url}/flaky", retries=3, backoff_factor=0.05)
    start = time.perf_counter()
    assert server.test("/", body={"a": 1})["got"] == {"a": 1}
    assert len(remote.calls) == 3
    assert time.perf_counter() - start >= 0.05 + 0.1  # back-off grew between attempts


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_retries_run_out_and_4xx_is_passed_on_without_retry(remote: Remote, engine: str) -> None:
    remote.flaky_failures = 10
    server = _flow(engine, url=f"{remote.url}/flaky", retries=1, backoff_factor=0.01)
    out = server.test("/", body={"a": 1}, silent=True)
    assert out.status_code == 502 and out.body["step"] == "call"
    assert "answered 503" in out.body["message"] and len(remote.calls) == 2
    remote.calls.clear()
    bad = _flow(engine, url=f"{remote.url}/bad", retries=3).test("/", body={}, silent=True)
    assert bad.status_code == 400 and "no such feature" in bad.body["message"]
    assert len(remote.calls) == 1


def test_connection_errors_and_timeouts_name_the_url(remote: Remote) -> None:
    down = _flow("sync", url="http://127.0.0.1:9/x", retries=1, backoff_factor=0.01)
    out = down.test("/", body={"a": 1}, silent=True)
    assert out.status_code == 502 and "127.0.0.1:9/x failed after 2 attempts" in out.body["message"]
    slow = _flow("sync", url=f"{remote.url}/slow", retries=0, timeout=0.2)
    out = slow.test("/", body={"a": 1}, silent=True)
    assert out.status_code == 504 and "Timeout" in out.body["message"]
    with pytest.raises(fnrun.errors.InvalidArgumentError, match="is not an http"):
        _flow("sync", url="localhost:8080")


def test_input_and_result_paths_around_a_remote_step(remote: Remote) -> None:
    fn = fnrun.new_function("remote", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(
        "RemoteStep",
        name="call",
        url=f"{remote.url}/double",
        input_path="data",
        result_path="doubled",
    ).respond()
    out = fn.to_mock_server().test("/", body={"data": [1, 2], "keep": True})  # type: ignore[attr-defined]
    assert out == {"data": [1, 2], "keep": True, "doubled": [1, 2, 1, 2]}


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_batch_http_requests_sends_each_item(remote: Remote, engine: str) -> None:
    fn = fnrun.new_function("batch", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to("BatchHttpRequests", name="fan", url=f"{remote.url}/echo").respond()
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    out = server.test("/", body=[{"i": i} for i in range(5)])
    assert [o["got"] for o in out] == [{"i": i} for i in range(5)]
    assert sorted(c["body"]["i"] for c in remote.calls) == list(range(5))
    wrong = server.test("/", body={"i": 1}, silent=True)
    assert wrong.status_code == 400 and "needs a list body" in wrong.body["message"]


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_add_model_with_model_url_forwards_the_operation(remote: Remote, engine: str) -> None:
    fn = fnrun.new_function("router", kind="serving")
    fn.set_topology("router", engine=engine)  # type: ignore[attr-defined]
    fn.add_model("m", model_url=f"{remote.url}/v2/models/m", retries=0)  # type: ignore[attr-defined]
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    out = server.test("/v2/models/m/infer", body={"inputs": [[1, 2], [3, 4]]})
    assert out == {"op": "infer", "outputs": [3, 7]}
    assert server.test("/v2/models/m/explain", body={"inputs": [[1]]})["op"] == "explain"
    assert remote.calls[-1]["path"] == "/v2/models/m/explain"


def test_many_remote_calls_in_flight_on_the_async_engine(remote: Remote) -> None:
    server = _flow("async", url=f"{remote.url}/slow", max_in_flight=8, timeout=5)

    async def many() -> list[Any]:
        return await asyncio.gather(*(server.test_async("/", body={"i": i}) for i in range(6)))

    start = time.perf_counter()
    outs = asyncio.run(many())
    assert sorted(o["got"]["i"] for o in outs) == list(range(6))
    assert time.perf_counter() - start < 3.0  # six 1 s calls overlapped


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_url_and_body_expressions_and_mlrun_headers(remote: Remote, engine: str) -> None:
    server = _flow(
        engine,
        url_expression="event['target'] + '/echo'",
        body_expression="{'q': event['data'], 'n': 1}",
        retries=0,
    )
    out = server.test("/", body={"target": remote.url, "data": [1]}, event_id="e9")
    assert out == {"got": {"q": [1], "n": 1}, "path": "/echo"}
    headers = remote.calls[-1]["headers"]
    assert headers["mlrun-event-id"] == headers["x-request-id"] == "e9"  # MLRun's names
    assert headers["mlrun-event-path"] == "/"


def test_expressions_the_evaluator_cannot_run_are_refused_when_built(remote: Remote) -> None:
    with pytest.raises(fnrun.errors.InvalidArgumentError, match="Call is not allowed"):
        _flow("sync", url_expression="__import__('os').getcwd()")
    with pytest.raises(fnrun.errors.InvalidArgumentError, match="unknown name 'body'"):
        _flow("sync", url=remote.url, body_expression="body['x']")


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_subpath_dollar_path_appends_the_event_path(remote: Remote, engine: str) -> None:
    server = _flow(engine, url=remote.url, subpath="$path", retries=0)
    assert server.test("/echo", body={"a": 1}) == {"got": {"a": 1}, "path": "/echo"}


def test_return_json_false_gives_bytes_and_defaults_as_mlrun(remote: Remote) -> None:
    from fnrun.serving import RemoteStep

    step = RemoteStep(url=remote.url)
    assert (step.retries, step.backoff_factor) == (6, 1.0)
    RemoteStep(url="other-function")  # relative: resolved (or refused) when the graph is built
    RemoteStep()  # absent: url_expression may come with the step's class args
    assert [round(step._delay(a)) for a in range(4)] == [1, 2, 4, 8]
    assert RemoteStep(url_expression="event['u']").to_dict()["class_args"] == {
        "url_expression": "event['u']",
        "retries": 6,
        "return_json": True,
    }
    fn = fnrun.new_function("raw", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to("RemoteStep", name="call", url=f"{remote.url}/text", return_json=False).respond()
    out = fn.to_mock_server().test("/", body={"x": 1})  # type: ignore[attr-defined]
    assert out == b"plain words"


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_mlrun_builds_with_none_for_arguments_not_given(remote: Remote, engine: str) -> None:
    """MLRun's ``graph.to("$remote", name, url=None, url_expression=...)`` (its tests pass
    ``None`` for anything not given): the URL comes from the event; a 4xx answer raises a
    ``RuntimeError`` from ``server.test`` on both engines, as MLRun's mock does."""
    fn = fnrun.new_function("late-url", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to("$remote", "call", url=None, method="GET", url_expression="event['u']",
             subpath=None, timeout=None, retries=None, headers=None).respond()  # fmt: skip
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    assert server.test(body={"u": f"{remote.url}/echo"})["path"] == "/echo"
    assert remote.calls[-1]["method"] == "GET"
    with pytest.raises(RuntimeError, match="answered 400"):
        server.test(body={"u": f"{remote.url}/bad"})


def test_an_async_timeout_says_it_timed_out(remote: Remote) -> None:
    """httpx's async timeouts carry no message; the step's error still says "timed out"."""
    out = _flow("async", url=f"{remote.url}/slow", retries=0, timeout=0.2).test(
        "/", body={"a": 1}, silent=True
    )
    assert out.status_code == 504 and "timed out" in out.body["message"]


def test_a_text_answer_is_read_as_json_when_it_is_json(remote: Remote) -> None:
    """As MLRun's ``return_json=True`` (the default): a JSON body is parsed whatever its
    content type; a text body that is not JSON is passed on as text."""
    assert _flow("sync", url=f"{remote.url}/plain-json").test("/", body={}) == [1, 2]
    assert _flow("sync", url=f"{remote.url}/plain-words").test("/", body={}) == "not json"


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_remote_step_object_with_paths_as_mlrun(remote: Remote, engine: str) -> None:
    """MLRun's ``test_remote_class``: a ``RemoteStep`` object's paths are the step's own
    settings in its ``to_dict()`` (beside ``class_args``, as MLRun serializes it) and still
    select and place the data when the graph runs."""
    from fnrun.serving import RemoteStep

    step = RemoteStep(name="remote_echo", url=f"{remote.url}/echo", method="GET",
                      input_path="req", result_path="resp", max_in_flight=1)  # fmt: skip
    doc = step.to_dict()
    assert (doc["name"], doc["input_path"], doc["result_path"]) == ("remote_echo", "req", "resp")
    assert doc["class_args"] == {"url": f"{remote.url}/echo", "method": "GET", "max_in_flight": 1,
                                 "retries": 6, "return_json": True}  # fmt: skip
    fn = fnrun.new_function("obj", kind="serving")
    fn.set_topology("flow", engine=engine).to(step).respond()  # type: ignore[attr-defined]
    out = fn.to_mock_server().test(body={"req": {"x": 5}})  # type: ignore[attr-defined]
    assert out["req"] == {"x": 5} and out["resp"]["path"] == "/echo"
    assert remote.calls[-1]["method"] == "GET"


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_the_time_left_goes_on_to_the_remote_and_bounds_the_call(
    remote: Remote, engine: str
) -> None:
    server = _flow(engine, url=remote.url, subpath="echo", retries=0)
    server.test("/", body={"a": 1}, headers={"x-fnrun-timeout": "2"})
    sent = float(remote.calls[-1]["headers"]["x-fnrun-timeout"])
    assert 1.5 < sent <= 2.0  # the budget the next server keeps
    slow = _flow(engine, url=f"{remote.url}/slow", retries=3)
    start = time.perf_counter()
    out = slow.test("/", body={"a": 1}, headers={"x-fnrun-timeout": "0.2"}, silent=True)
    assert out.status_code == 504 and time.perf_counter() - start < 0.5


def test_batch_requests_on_the_sync_engine_keep_the_request_deadline(remote: Remote) -> None:
    fn = fnrun.new_function("remote", kind="serving")
    graph = fn.set_topology("flow", engine="sync", timeout=5)  # type: ignore[attr-defined]
    graph.to("BatchHttpRequests", name="fan", url=f"{remote.url}/echo").respond()
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    server.test("/", body=[1, 2, 3])
    sent = [float(call["headers"]["x-fnrun-timeout"]) for call in remote.calls]
    assert len(sent) == 3 and all(0 < left <= 5 for left in sent)  # each worker knew the time
