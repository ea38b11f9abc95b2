"""The scheduler's decisions, stepped with a fake clock over a real SQLite run DB: on time and
not before, the overlap and missed-time policies, a restart on the same DB, two schedulers
on one DB, run-now. The runner here only records what it was asked to start (the service
tests start real runs through the real one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.schedule import SCHEDULE_LABEL, new_schedule, parse_time
from fnrun.service.scheduler import Scheduler

pytest.importorskip("croniter")
FUNCTION = {"kind": "job", "metadata": {"name": "report"}, "spec": {}}


class RecordingRunner:
    """Stands in for JobRunner: records each submission as a ``running`` run."""

    def __init__(self, db: SQLRunDB) -> None:
        self.db = db
        self.started: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None

    def submit(self, function: Any, task: Any, project: str, labels: dict[str, str]) -> Any:
        if self.fail_with is not None:
            raise self.fail_with
        uid = uuid.uuid4().hex
        doc = {"kind": "run", "metadata": {"uid": uid, "name": "report", "labels": labels},
               "status": {"state": "running"}}  # fmt: skip
        self.db.store_run(doc, uid, project)
        self.started.append({"uid": uid, "task": task, "labels": labels})
        return doc

    def finish_all(self, project: str = "default") -> None:
        for run in self.started:
            self.db.update_run({"status.state": "completed"}, run["uid"], project)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now().astimezone()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The service's DB: an embedded SQLite file, or a real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    from tests.db.conftest import postgres_url

    with postgres_url() as pg:
        yield pg


@pytest.fixture
def db(url: str) -> Iterator[SQLRunDB]:
    sql = SQLRunDB(url, default_project="default")
    yield sql
    sql.close()


def _store(db: SQLRunDB, cron: str = "*/5 * * * *", **policies: str) -> datetime:
    task = {"handler": "make", "params": {"day": 1}}
    db.store_schedule(new_schedule("report", "default", cron, FUNCTION, task, **policies))
    return _next(db)


def _next(db: SQLRunDB) -> datetime:
    return parse_time(db.get_schedule("report", "default")["status"]["next_run_time"])


def _scheduler(db: SQLRunDB, clock: Clock) -> tuple[Scheduler, RecordingRunner]:
    runner = RecordingRunner(db)
    return Scheduler(db, runner, clock=clock), runner  # type: ignore[arg-type]


def test_runs_on_time_not_before_and_plans_the_next(db: SQLRunDB) -> None:
    due = _store(db)
    assert due.minute % 5 == 0 and due.second == 0 and due > datetime.now().astimezone()
    clock = Clock()
    scheduler, runner = _scheduler(db, clock)
    clock.now = due - timedelta(seconds=1)
    assert scheduler.tick() == [] and runner.started == []
    clock.now = due + timedelta(seconds=1)
    [outcome] = scheduler.tick()
    assert outcome["action"] == "run" and len(runner.started) == 1
    assert runner.started[0]["labels"] == {SCHEDULE_LABEL: "report"}
    assert runner.started[0]["task"]["params"] == {"day": 1}
    assert _next(db) == due + timedelta(minutes=5)
    assert scheduler.tick() == []  # the same time runs once
    status = db.get_schedule("report", "default")["status"]
    assert status["runs"] == 1 and status["last_run_uid"] == runner.started[0]["uid"]


def test_overlap_skip_waits_for_the_previous_run_and_allow_does_not(db: SQLRunDB) -> None:
    due = _store(db, overlap="skip")
    clock = Clock()
    scheduler, runner = _scheduler(db, clock)
    clock.now = due + timedelta(seconds=1)
    scheduler.tick()
    clock.now = due + timedelta(minutes=5, seconds=1)  # the first run still goes
    [outcome] = scheduler.tick()
    assert outcome["action"] == "skip" and "still going" in outcome["reason"]
    status = db.get_schedule("report", "default")["status"]
    assert len(runner.started) == 1 and status["skipped"] == 1
    assert status["last_skip"]["reason"].startswith(f"run {runner.started[0]['uid']}")
    runner.finish_all()
    clock.now = due + timedelta(minutes=10, seconds=1)
    scheduler.tick()
    assert len(runner.started) == 2

    due = _store(db, overlap="allow")  # stored again: the policy changes, the history stays
    assert db.get_schedule("report", "default")["status"]["runs"] == 2
    for step in range(2):
        clock.now = due + timedelta(minutes=5 * step, seconds=1)
        scheduler.tick()
    assert len(runner.started) == 4  # two runs going at once


@pytest.mark.parametrize(("missed", "runs"), [("run-once", 1), ("skip", 0)])
def test_times_missed_while_down_run_once_or_are_skipped_after_a_restart(
    url: str, missed: str, runs: int
) -> None:
    first = SQLRunDB(url, default_project="default")
    due = _store(first, missed=missed)
    first.close()  # the service stops; three hours pass

    again = SQLRunDB(url, default_project="default")  # a new service on the same DB
    clock = Clock()
    clock.now = due + timedelta(hours=3, seconds=30)
    scheduler, runner = _scheduler(again, clock)
    scheduler.tick()
    assert len(runner.started) == runs  # never 36 catch-up runs
    nxt = _next(again)
    assert clock.now < nxt <= clock.now + timedelta(minutes=5)
    status = again.get_schedule("report", "default")["status"]
    assert status.get("skipped", 0) == 1 - runs
    if missed == "skip":
        assert "missed by" in status["last_skip"]["reason"]
    assert scheduler.tick() == []
    again.close()


def test_a_due_time_is_claimed_by_one_scheduler_only(url: str) -> None:
    a_db = SQLRunDB(url, default_project="default")
    b_db = SQLRunDB(url, default_project="default")  # a second service on the same DB
    due = _store(a_db)
    clock = Clock()
    clock.now = due + timedelta(seconds=1)
    a, a_runner = _scheduler(a_db, clock)
    b, b_runner = _scheduler(b_db, clock)
    [seen_by_a] = a_db.due_schedules(clock.now)
    [seen_by_b] = b_db.due_schedules(clock.now)  # both saw it due before either claimed it
    outcomes = [a._due(seen_by_a, clock.now), b._due(seen_by_b, clock.now)]
    assert [o is None for o in outcomes] == [False, True]
    assert len(a_runner.started) + len(b_runner.started) == 1
    a_db.close()
    b_db.close()


def test_run_now_keeps_the_plan_and_a_failed_start_is_recorded(db: SQLRunDB) -> None:
    due = _store(db)
    clock = Clock()
    scheduler, runner = _scheduler(db, clock)
    run = scheduler.invoke("report", "default")
    assert run["metadata"]["labels"] == {SCHEDULE_LABEL: "report"} and _next(db) == due
    with pytest.raises(NotFoundError, match="schedule 'nope' not found"):
        scheduler.invoke("nope", "default")
    runner.finish_all()  # else the due time is skipped: that run still goes
    runner.fail_with = NotFoundError("secrets file not found: /gone", field="secrets")
    clock.now = due + timedelta(seconds=1)
    [outcome] = scheduler.tick()
    assert outcome["action"] == "error"
    status = db.get_schedule("report", "default")["status"]
    assert status["last_error"] == "secrets file not found: /gone"
    assert _next(db) == due + timedelta(minutes=5)  # it tries again next time


def test_a_schedule_deleted_while_due_does_not_run(db: SQLRunDB) -> None:
    due = _store(db)
    clock = Clock()
    clock.now = due + timedelta(seconds=1)
    scheduler, runner = _scheduler(db, clock)
    [seen] = db.due_schedules(clock.now)
    db.delete_schedule("report", "default")
    assert scheduler._due(seen, clock.now) is None and runner.started == []
    with pytest.raises(NotFoundError):
        db.delete_schedule("report", "default")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"spec.cron": "* * *"}, "schedule"),
        ({"spec.cron": "61 * * * *"}, "schedule"),
        ({"spec.cron": "* * * * * *"}, "schedule"),
        ({"spec.overlap": "queue"}, "spec.overlap"),
        ({"spec.missed": "all"}, "spec.missed"),
        ({"metadata.name": "Bad Name"}, "metadata.name"),
        ({"spec.function": None}, "spec.function"),
        ({"spec.task": {"handler": "make", "sudo": True}}, "spec.task.sudo"),
        ({"spec.task": {"params": [1]}}, "spec.task.params"),
        (
            {"spec.task": {"secret_sources": [{"kind": "inline", "source": {"K": "v"}}]}},
            "spec.task.secret_sources",
        ),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(
    db: SQLRunDB, change: dict[str, Any], field: str
) -> None:
    doc = new_schedule("report", "default", "*/5 * * * *", FUNCTION, {"handler": "make"})
    for dotted, value in change.items():
        section, key = dotted.split(".")
        doc[section][key] = value
    with pytest.raises(InvalidArgumentError) as caught:
        db.store_schedule(doc)
    assert caught.value.field == field
    assert db.list_schedules() == []


def test_concurrent_starts_all_count(db: SQLRunDB) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _store(db)
    scheduler, runner = _scheduler(db, Clock())
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _i: scheduler.invoke("report", "default"), range(8)))
    assert len(runner.started) == 8
    assert db.get_schedule("report", "default")["status"]["runs"] == 8  # none lost
