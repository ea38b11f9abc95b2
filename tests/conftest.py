"""Shared fixtures: every test gets its own FNRUN_HOME (DB + artifacts) under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fnrun.config import reset_settings
from fnrun.db import reset_run_dbs

DATA = Path(__file__).resolve().parent / "data"
HUB_SAMPLE = DATA / "hub-sample"


@pytest.fixture(autouse=True)
def fnrun_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "fnrun-home"
    monkeypatch.setenv("FNRUN_HOME", str(home))
    for var in (
        "FNRUN_DBPATH",
        "FNRUN_ARTIFACT_PATH",
        "FNRUN_DEFAULT_PROJECT",
        "FNRUN_MOCK_DEPLOY",
        "FNRUN_NUCLIO_VERSION",
        "KUBECONFIG",
    ):
        monkeypatch.delenv(var, raising=False)
    for var in [v for v in os.environ if v.startswith("FNRUN_K8S")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("FNRUN_K8S", "off")  # no test submits to a cluster it did not start
    reset_settings()
    reset_run_dbs()
    yield home
    reset_run_dbs()
    reset_settings()


def require_service(env_var: str, what: str) -> str:
    """The URL of an external service, or a skip naming it (a failure when CI requires it)."""
    value = os.environ.get(env_var, "")
    if not value:
        message = f"{what} not available: set {env_var} (.ci/run starts one)"
        if os.environ.get("FNRUN_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI (FNRUN_REQUIRE_SERVICES set) a skipped test is a failure: nothing hides there."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("FNRUN_REQUIRE_SERVICES")
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may skip: {report.longrepr}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, exited and not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"
