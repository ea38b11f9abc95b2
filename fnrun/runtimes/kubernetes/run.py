"""Run a request as Kubernetes objects and follow it to its end.

The run is recorded (state ``created``) before anything is submitted, so a refused or
unreachable cluster leaves a run in ``error`` naming why. Then its Secret (the run's
secrets, read by the pod through ``valueFrom``), ConfigMap (the run config and the
function's code) and workload (a ``batch/v1`` Job) are created; the Secret and ConfigMap are
owned by the Job, so Kubernetes deletes them with it (its TTL, or an abort).

The pod runs ``python -m fnrun exec --from-env`` and reports to the run DB itself (the URL
in ``FNRUN_K8S_DBPATH``, else this process's). This process follows the Job: pending
problems (image pulls, scheduling) are shown and recorded, a problem that cannot fix itself
or outlasts ``FNRUN_K8S_PENDING_TIMEOUT`` seconds fails the run and deletes the Job; the
pod's log is streamed (printed with ``watch``). When the Job ends, a run the pod did not
finish is marked ``error`` with the pod's exit code and reason (``OOMKilled``) and keeps the
pod's log: a run never stays ``running`` after its pod is gone.
"""

from __future__ import annotations

import codecs
import os
import sys
import threading
import uuid
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fnrun.config import to_db_url
from fnrun.db import db_token
from fnrun.db.monitor import this_executor
from fnrun.errors import FnrunError
from fnrun.execution.execute import context_for
from fnrun.execution.retry import CODE, INFRASTRUCTURE
from fnrun.runtimes.kubernetes.pod_status import PodView
from fnrun.runtimes.kubernetes.watch import ABORTED, JobWatch, follow_settings, submit
from fnrun.runtimes.kubernetes.workloads import Workload, of_function
from fnrun.runtimes.local.child import FINAL_STATES

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.kubernetes.cluster import Cluster

POD_DB_ENV = "FNRUN_K8S_DBPATH"
Say = Callable[[str], None]


def pod_db_url(db: RunDB) -> str:
    """The run DB URL the pods report to."""

    given = os.environ.get(POD_DB_ENV, "")
    return to_db_url(given) if given else db.url


def unseen_paths(fn: RuntimeLike, db_url: str, artifact_path: str) -> list[str]:
    """Warnings for what this machine names that a pod cannot see: a SQLite file or local
    artifact folder outside every volume the function mounts, a database on loopback."""
    mounts = [str(m.get("mountPath", "")).rstrip("/") for m in fn.spec.volume_mounts]

    def mounted(path: str) -> bool:
        return any(m and (path == m or path.startswith(m + "/")) for m in mounts)

    out = []
    parts = urlsplit(db_url)
    if parts.scheme.startswith("sqlite"):
        path = db_url.split(":///", 1)[-1]
        if not path or path == ":memory:" or not mounted("/" + path.lstrip("/")):
            out.append(
                f"the pods report to the SQLite run DB {db_url}, which they cannot see unless "
                "a shared volume is mounted at that path (fn.add_volume(..., mount=...)); "
                f"give them a PostgreSQL URL in {POD_DB_ENV} or FNRUN_DBPATH"
            )
    elif parts.hostname in ("localhost", "127.0.0.1", "::1"):
        out.append(
            f"the pods report to the run DB at {parts.hostname}, which is their own loopback, "
            f"not this machine; set {POD_DB_ENV} to the DB's address as the pods see it"
        )
    local_artifacts = "://" not in artifact_path or artifact_path.startswith("file://")
    if local_artifacts and artifact_path and not mounted(artifact_path.removeprefix("file://")):
        out.append(
            f"artifacts go to {artifact_path} inside the pod, which is lost with the pod unless a "
            "shared volume is mounted there; give an object-store artifact_path (s3://...)"
        )
    return out


class KubeRun:
    """One run of ``fn`` on ``cluster``."""

    def __init__(
        self, fn: RuntimeLike, cluster: Cluster, db: RunDB, watch: bool, say: Say | None
    ) -> None:
        self.fn, self.cluster, self.db = fn, cluster, db
        self.say = say or (lambda text: None)
        self.show_logs = watch
        self.pending_timeout, self.poll = follow_settings()

    def __call__(self, request: RunRequest) -> dict[str, Any]:
        from fnrun.runtimes.kubernetes.manifests import build_manifests
        from fnrun.runtimes.kubernetes.manifests.pod import run_name

        request.uid = request.uid or uuid.uuid4().hex
        request.watcher = this_executor()  # while this process lives, it records the end
        ns, name = self.cluster.namespace, run_name(self.fn, request)
        workload = of_function(self.fn)
        request.status_extra["kubernetes"] = {
            "namespace": ns,
            "kind": workload.kind,
            "job": name,
            "context": self.cluster.context,
            "config": self.cluster.choice.source,
            "server": self.cluster.server,
        }
        db_url = pod_db_url(self.db)
        for text in unseen_paths(self.fn, db_url, request.artifact_path):
            warnings.warn(text, UserWarning, stacklevel=4)
        # a retry's log goes on after the earlier attempts'
        log_start = len(self.db.get_log(request.uid, request.project)[1]) if request.attempt else 0
        ctx = context_for(request, self.db)
        ctx.commit()  # the run exists before its pod does
        try:
            token = db_token(self.db) if db_url == self.db.url else ""
            docs = build_manifests(self.fn, request, db_url, ns, with_secrets=True, db_token=token)
            submit(self.cluster, docs)
        except FnrunError as exc:
            self._fail(request, f"not submitted: {exc}")
            raise
        self.say(f"{workload.kind} {name} submitted to {self.cluster.describe()}")
        if request.submitted is not None:
            request.submitted.set()  # watch=False: the caller has its run, we follow it
        logs = PodLogs(self.cluster, ns, self.show_logs, ctx.redact)
        if workload.kind == "MPIJob":  # the launcher's mpirun tags each rank's lines
            from fnrun.runtimes.local.ranks import rank_line

            def keep(text: str) -> None:
                self.db.store_log(request.uid, request.project, text.encode())

            logs.per_line(rank_line, keep)
        view, failure = self._follow(request, name, logs, workload)
        return self._finish(request, view, failure, logs, log_start)

    # -- follow ------------------------------------------------------------------------------
    def _follow(
        self, request: RunRequest, name: str, logs: PodLogs, workload: Workload
    ) -> tuple[PodView | None, str]:
        """Wait for the workload to end; the last view of the pod running the entry and why
        it failed here ('' if not)."""

        def problem(view: PodView) -> None:
            self.say(f"pod {view.name}: {view.problem}")
            self._note(request, view.problem)

        def started(view: PodView) -> None:
            self.say(f"pod {view.name} {view.phase.lower()}")
            self._note(request, "")
            logs.start(view.name)

        labels = {"fnrun/uid": request.uid, "fnrun/iteration": str(request.iteration)}
        if request.attempt:
            labels["fnrun/attempt"] = str(request.attempt)
        watch = JobWatch(self.cluster, name, labels, self.pending_timeout, self.poll, workload)
        try:
            return watch.follow(problem, started)
        finally:
            logs.join(timeout=30)

    def _note(self, request: RunRequest, problem: str) -> None:
        """Record what keeps the pod from running in the run (``status.status_text``)."""
        self.db.update_run(
            {"status.status_text": problem}, request.uid, request.project, request.iteration
        )

    # -- finish ------------------------------------------------------------------------------
    def _finish(
        self,
        request: RunRequest,
        view: PodView | None,
        failure: str,
        logs: PodLogs,
        log_start: int = 0,
    ) -> dict[str, Any]:
        run = self.db.read_run(request.uid, request.project, request.iteration)
        state = run.get("status", {}).get("state")
        ended = view.failure() if view is not None else ""
        if state in FINAL_STATES and not (state == "completed" and ended):
            return run
        if failure == ABORTED:
            return self._fail(request, failure, logs, state="aborted", log_start=log_start)
        # whose fault (fnrun.execution.retry): a pod that could not start because of its
        # spec (a bad image name) is the code's; one ended by the cluster, one stuck pending,
        # or one that never reported is the infrastructure's
        fault = INFRASTRUCTURE
        if failure:
            fault = CODE if view is not None and view.fatal else INFRASTRUCTURE
        elif ended:
            fault = INFRASTRUCTURE if view is not None and view.ended_by_cluster() else CODE
        if not failure:
            failure = ended or (
                f"the pod ended without reporting to the run DB {pod_db_url(self.db)} "
                "(can it reach it?)"
            )
            if state == "completed":
                failure += " after the run completed"
        return self._fail(request, failure, logs, fault=fault, log_start=log_start)

    def _fail(
        self,
        request: RunRequest,
        error: str,
        logs: PodLogs | None = None,
        state: str = "error",
        fault: str = CODE,
        log_start: int = 0,
    ) -> dict[str, Any]:
        updates = {"status.state": state, "status.error": error}
        if state == "error":
            updates["status.fault"] = fault
        run = self.db.update_run(  # merge: keep what the pod committed
            updates,
            request.uid,
            request.project,
            request.iteration,
        )
        text = "".join(logs.lines) if logs is not None else ""
        if text and not self.db.get_log(request.uid, request.project, offset=log_start)[1]:
            self.db.store_log(request.uid, request.project, text.encode(), append=True)
        return run


class PodLogs:
    """A pod's log, followed in a thread from when the pod starts to when it ends."""

    def __init__(self, cluster: Cluster, namespace: str, show: bool, redact: Callable[[str], str]):
        self.cluster, self.namespace, self.show, self.redact = cluster, namespace, show, redact
        self.lines: list[str] = []
        self.thread: threading.Thread | None = None
        self._split: Callable[[str], tuple[str, str]] | None = None
        self._keep: Callable[[str], None] = lambda _text: None
        self._partial = ""

    def per_line(
        self, split: Callable[[str], tuple[str, str]], keep: Callable[[str], None]
    ) -> None:
        """Pass each line through ``split`` (-> what to show, what to add to the run's log
        now, as locally for MPI ranks: ``[rank 1] ...``) and ``keep`` the latter."""
        self._split, self._keep = split, keep

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self, pod: str) -> None:
        self.thread = threading.Thread(target=self._follow, args=(pod,), daemon=True)
        self.thread.start()

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def _follow(self, pod: str) -> None:
        core = self.cluster.core
        try:
            resp = core.read_namespaced_pod_log(
                pod, self.namespace, follow=True, _preload_content=False
            )
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            for chunk in resp.stream(4096):
                self._add(decoder.decode(chunk))
            self._add(decoder.decode(b"", final=True))
            self._add("", final=True)
        except Exception as exc:  # the pod was deleted, the API went away: the run says so
            self.lines.append(f"[fnrun: the pod's log ended early: {type(exc).__name__}: {exc}]\n")

    def _add(self, text: str, final: bool = False) -> None:
        if self._split is not None:
            text = self._lines(text, final)
        if not text:
            return
        text = self.redact(text)
        self.lines.append(text)
        if self.show:
            sys.stdout.write(text)
            sys.stdout.flush()

    def _lines(self, text: str, final: bool) -> str:
        """The shown text of the whole lines in ``text`` (a partial one waits for its end);
        what the split says to log now is kept at once."""
        assert self._split is not None
        pending = self._partial + text
        whole = pending.splitlines(keepends=True)
        self._partial = "" if final or not whole or whole[-1].endswith("\n") else whole.pop()
        shown = []
        for line in whole:
            show, log_now = self._split(line)
            shown.append(show)
            if log_now:
                self._keep(self.redact(log_now))
        return "".join(shown)
