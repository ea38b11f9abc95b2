"""A handler written for Nuclio runs unchanged in the mock: the event and context are
nuclio-sdk's types (subclasses), with nuclio's methods and logger."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import fnrun

nuclio_sdk = pytest.importorskip("nuclio_sdk", reason="nuclio-sdk not installed")


def handler(context: Any, event: Any) -> Any:
    assert isinstance(event, nuclio_sdk.Event) and isinstance(context, nuclio_sdk.Context)
    context.logger.info_with("got event", path=event.path, kind=event.trigger.kind)
    context.logger.warn("plain %s", "warning")
    return context.Response(
        body={
            "token": event.get_header("X-Token"),
            "trigger": [event.trigger.kind, event.trigger.name],
            "json_id": __import__("json").loads(event.to_json())["id"],
            "size": event.size,
        },
        headers={"x-seen": "1"},
        content_type="application/json",
        status_code=201,
    )


def _server() -> Any:
    fn = fnrun.new_function("nuclio-style", kind="serving")
    fn.set_topology("flow").to(handler="handler", name="h", full_event=True).respond()  # type: ignore[attr-defined]
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def test_nuclio_handler_sees_nuclio_types_methods_and_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = _server()
    with caplog.at_level(logging.INFO, logger="fnrun.graph"):
        out = server.test(
            "/p", body={"a": 1}, headers={"x-token": "t1"}, event_id="e1", get_body=False
        )
    assert out.status_code == 201 and out.headers == {"x-seen": "1"}
    assert out.body == {"token": "t1", "trigger": ["http", "fnrun"], "json_id": "e1", "size": None}
    assert "got event path='/p' kind='http'" in caplog.text and "plain warning" in caplog.text


def test_a_stream_trigger_given_as_a_dict_has_kind_and_name() -> None:
    out = _server().test("/", body={}, trigger={"kind": "kafka-cluster", "name": "g1"})
    assert out.status_code == 201  # a step's own Response comes back whole, as MLRun's mock
    assert out.body["trigger"] == ["kafka-cluster", "g1"]


def test_a_failing_request_in_the_mock_is_raised_once_not_also_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fnrun.mock.server import MockRequestError

    fn = fnrun.new_function("loud", kind="serving")
    fn.set_topology("flow").to(handler=f"{__name__}.refuse", name="b").respond()  # type: ignore[attr-defined]
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    with caplog.at_level("DEBUG"), pytest.raises(MockRequestError, match="no thanks"):
        server.test("/", body=1)
    assert not [r for r in caplog.records if "no thanks" in r.getMessage()]
    assert server.test("/", body=1, silent=True).status_code == 500  # the Response, quietly
    assert [e["message"] for e in server.errors] == ["no thanks"] * 2  # still recorded


def refuse(body: Any) -> Any:
    raise ValueError("no thanks")
