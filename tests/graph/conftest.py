from __future__ import annotations

import pytest

import fnrun
from tests.graph import steps_for_tests


@pytest.fixture(params=["sync", "async"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def serving(engine: str = "sync") -> tuple[fnrun.BaseRuntime, object]:
    fn = fnrun.new_function("graph-test", kind="serving")
    return fn, fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]


def mock(fn: fnrun.BaseRuntime, **kwargs: object) -> object:
    return fn.to_mock_server(namespace=vars(steps_for_tests), **kwargs)  # type: ignore[attr-defined]
