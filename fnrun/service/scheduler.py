"""The service's scheduler: runs stored schedules (:mod:`fnrun.model.schedule`) on time.

Every ``interval`` seconds it asks the DB for schedules due by now and, for each, claims the
due time (a compare-and-set of ``next_run``, so two services on one DB run it once), plans
the next time after now, and then:

- a due time older than ``missed_grace`` seconds was **missed** (the service was down):
  ``missed="run-once"`` runs it once, however many times were missed; ``"skip"`` counts it
  in ``status.skipped`` and waits for the next time;
- while the schedule's last run is still going, ``overlap="skip"`` runs nothing (counted,
  with ``status.last_skip`` saying why); ``"allow"`` starts another;
- otherwise it submits the task (:class:`fnrun.service.jobs.JobRunner`): an ordinary tracked
  run labelled ``fnrun/schedule=<name>``.

Schedules live in the DB, so a restarted service goes on where the last one stopped (with
the missed policy for what fell in between). ``clock`` is injectable so tests step time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fnrun.db.monitor import UNFINISHED
from fnrun.errors import FnrunError, NotFoundError
from fnrun.model.schedule import SCHEDULE_LABEL, iso, next_after, parse_time

if TYPE_CHECKING:
    from fnrun.db.sql.sqldb import SQLRunDB
    from fnrun.service.jobs import JobRunner

Doc = dict[str, Any]
log = logging.getLogger("fnrun.service")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    def __init__(
        self,
        db: SQLRunDB,
        runner: JobRunner,
        clock: Callable[[], datetime] = utc_now,
        interval: float = 1.0,
        missed_grace: float = 60.0,
    ) -> None:
        self.db = db
        self.runner = runner
        self.clock = clock
        self.interval = interval
        self.missed_grace = missed_grace
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop ---------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="fnrun-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a failing DB must not end the scheduler: try again next tick
                log.exception("scheduler tick failed")
            if self._stop.wait(self.interval):
                return

    # -- one step ---------------------------------------------------------------------------
    def tick(self) -> list[Doc]:
        """Handle every schedule due now; returns what each did (``action``, ``uid``)."""
        now = self.clock()
        outcomes = []
        for doc in self.db.due_schedules(now):
            outcome = self._due(doc, now)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _due(self, doc: Doc, now: datetime) -> Doc | None:
        meta, spec, status = doc["metadata"], doc["spec"], doc["status"]
        name, project = meta["name"], meta["project"]
        due_text = status["next_run_time"]
        late = (now - parse_time(due_text)).total_seconds()
        action, why = "run", ""
        if late > self.missed_grace and spec.get("missed") == "skip":
            action, why = "skip", f"missed by {late:.0f} s (the service was not running)"
        elif spec.get("overlap", "skip") == "skip" and self._still_running(status, project):
            action, why = "skip", f"run {status['last_run_uid']} is still going"
        updates: Doc = {"status.next_run_time": iso(next_after(spec["cron"], now))}
        if action == "skip":
            updates["status.last_skip"] = {"time": due_text, "reason": why}
        claimed = self.db.advance_schedule(name, project, due_text, updates)
        if claimed is None:
            return None  # another scheduler took this time, or the schedule was deleted
        if action == "skip":
            self.db.update_schedule_status(name, project, {}, {"status.skipped": 1})
            log.info("schedule %s/%s skipped %s: %s", project, name, due_text, why)
            return {"name": name, "project": project, "action": "skip", "reason": why}
        return self._start(claimed, now)

    def _still_running(self, status: Doc, project: str) -> bool:
        uid = status.get("last_run_uid")
        if not uid:
            return False
        try:
            run = self.db.read_run(uid, project)  # settles a run whose process died
        except NotFoundError:
            return False
        return (run.get("status") or {}).get("state") in UNFINISHED

    def _start(self, doc: Doc, now: datetime) -> Doc:
        meta, spec = doc["metadata"], doc["spec"]
        name, project = meta["name"], meta["project"]
        updates: Doc = {"status.last_run_time": iso(now)}
        counts: dict[str, int] = {}
        outcome: Doc = {"name": name, "project": project, "action": "run"}
        try:
            run = self.runner.submit(
                spec["function"], spec["task"], project, {SCHEDULE_LABEL: name}
            )
        except FnrunError as exc:  # the stored task no longer runs (a secrets file gone...)
            log.warning("schedule %s/%s could not start: %s", project, name, exc)
            updates["status.last_error"] = str(exc)
            outcome.update(action="error", error=str(exc))
        else:
            uid = run["metadata"]["uid"]
            updates.update({"status.last_run_uid": uid, "status.last_error": ""})
            counts["status.runs"] = 1
            outcome["uid"] = uid
        self.db.update_schedule_status(name, project, updates, counts)
        return outcome

    def invoke(self, name: str, project: str) -> Doc:
        """Run schedule ``name`` now, whatever its policies (``fnrun schedules run-now``);
        its next planned time stays. Returns the run's document."""
        doc = self.db.get_schedule(name, project)
        spec = doc["spec"]
        run = self.runner.submit(spec["function"], spec["task"], project, {SCHEDULE_LABEL: name})
        self.db.update_schedule_status(
            name,
            project,
            {
                "status.last_run_uid": run["metadata"]["uid"],
                "status.last_error": "",
                "status.last_run_time": iso(self.clock()),
            },
            {"status.runs": 1},  # counted under the row's lock: concurrent run-nows all count
        )
        return run
