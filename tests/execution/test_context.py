from __future__ import annotations

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import RunContext


@pytest.fixture
def db() -> SQLRunDB:
    return SQLRunDB("sqlite://", default_project="p")


def test_get_param_has_no_side_effect() -> None:
    ctx = RunContext(parameters={"a": [1]})
    assert ctx.get_param("b", 5) == 5
    ctx.get_param("a").append(2)
    ctx.parameters["c"] = 1
    assert ctx.parameters == {"a": [1]} and ctx.to_dict()["spec"]["parameters"] == {"a": [1]}


def test_log_result_casts_numpy_and_rejects_non_json() -> None:
    np = pytest.importorskip("numpy", reason="numpy not installed")
    ctx = RunContext()
    ctx.log_results({"a": np.float64(0.5), "b": np.int64(0), "arr": np.arange(3)})
    assert ctx.results == {"a": 0.5, "b": 0, "arr": [0, 1, 2]}
    assert type(ctx.results["b"]) is int


def test_log_result_errors_name_the_key() -> None:
    ctx = RunContext()
    with pytest.raises(InvalidArgumentError) as err:
        ctx.log_result("obj", object())
    assert err.value.field == "results.obj"
    with pytest.raises(InvalidArgumentError):
        ctx.log_result("", 1)


def test_with_block_commits_completed(db: SQLRunDB) -> None:
    with RunContext(name="t", project="p", db=db) as ctx:
        assert db.read_run(ctx.uid, "p")["status"]["state"] == "running"
        ctx.log_result("x", 1)
        ctx.set_label("k", "v")
        ctx.set_annotation("note", "n")
    stored = db.read_run(ctx.uid, "p")
    assert stored["status"]["state"] == "completed" and stored["status"]["results"] == {"x": 1}
    assert stored["metadata"]["labels"] == {"k": "v"}
    assert stored["metadata"]["annotations"] == {"note": "n"}


def test_with_block_exception_marks_error_and_reraises(db: SQLRunDB) -> None:
    with pytest.raises(ZeroDivisionError), RunContext(name="t", project="p", db=db) as ctx:
        _ = 1 / 0
    status = db.read_run(ctx.uid, "p")["status"]
    assert status["state"] == "error" and "ZeroDivisionError" in status["error"]
    assert "1 / 0" in status["traceback"]


def test_set_state(db: SQLRunDB) -> None:
    ctx = RunContext(project="p", db=db)
    ctx.set_state(error="boom")
    assert db.read_run(ctx.uid, "p")["status"]["state"] == "error"
    with pytest.raises(InvalidArgumentError, match="unknown run state"):
        ctx.set_state("done")


def test_secrets_never_in_document() -> None:
    ctx = RunContext(secrets={"ACCESS_KEY": "s3cr3t-value"})
    assert ctx.get_secret("ACCESS_KEY") == "s3cr3t-value"
    assert "s3cr3t-value" not in ctx.to_json()
    assert ctx.to_dict()["spec"]["secret_sources"] == [{"kind": "inline", "keys": ["ACCESS_KEY"]}]


def test_secret_falls_back_to_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_ENV", "e")
    assert RunContext().get_secret("FROM_ENV") == "e"
    assert RunContext().get_secret("NOPE_NOT_SET") is None


def test_concurrent_in_process_runs_capture_only_their_own_output() -> None:
    import sys
    import threading

    from fnrun.execution.capture import capture_output

    logs: dict[str, list[str]] = {"a": [], "b": []}
    gate = threading.Barrier(2)
    original = sys.stdout

    def work(name: str) -> None:
        with capture_output(logs[name].append, echo=False, interval=0.05):
            gate.wait()
            for i in range(50):
                print(f"{name}{i}")
            gate.wait()

    threads = [threading.Thread(target=work, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in "ab":
        lines = "".join(logs[name]).split()
        assert lines == [f"{name}{i}" for i in range(50)]
    assert sys.stdout is original  # the streams are restored after the last capture


def test_a_capture_inside_a_capture_hands_back_to_the_outer_one() -> None:
    from fnrun.execution.capture import capture_output

    outer: list[str] = []
    inner: list[str] = []
    with capture_output(outer.append, echo=False):
        print("before")
        with capture_output(inner.append, echo=False):
            print("nested")
        print("after")
    assert "".join(outer).split() == ["before", "after"]
    assert "".join(inner).split() == ["nested"]


def test_captures_flush_while_they_run_and_a_failed_flush_loses_nothing() -> None:
    import time

    from fnrun.execution.capture import capture_output

    fast: list[str] = []
    slow: list[str] = []
    failures = {"left": 2}
    kept: list[str] = []

    def flaky(text: str) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("the DB is away")
        kept.append(text)

    with capture_output(slow.append, echo=False, interval=30):
        with capture_output(fast.append, echo=False, interval=0.02):
            print("one")
            deadline = time.monotonic() + 5
            while not fast and time.monotonic() < deadline:
                time.sleep(0.01)
            assert fast == ["one\n"]  # flushed while the block still runs
            print("two")
        with capture_output(flaky, echo=False, interval=0.02):
            print("three")
            deadline = time.monotonic() + 5
            while (failures["left"] or not kept) and time.monotonic() < deadline:
                time.sleep(0.01)
            print("four")
        assert slow == []  # its interval has not come: nothing yet
        print("outer")
    assert "".join(fast) == "one\ntwo\n"  # the rest at the block's end, in order
    assert "".join(kept) == "three\nfour\n"  # the failed flushes' text came with the next one
    assert "".join(slow) == "outer\n"


def test_the_end_of_a_capture_waits_for_a_flush_under_way() -> None:
    import threading
    import time

    from fnrun.execution.capture import capture_output

    written: list[str] = []
    inside = threading.Event()

    def slow_flush(text: str) -> None:
        inside.set()
        time.sleep(0.3)
        written.append(text)

    with capture_output(slow_flush, echo=False, interval=0.01):
        print("first")
        assert inside.wait(5)
        print("second")
    assert written == ["first\n", "second\n"]  # the last flush came after the one under way
