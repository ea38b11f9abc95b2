"""``/api/v1/runs``: store, update, read, list and delete runs, and abort one where it
executes (the service's host, or its Kubernetes Job)."""

from fnrun.db.base import RunDB
from fnrun.runtimes.launch.abort import abort_run
from fnrun.service.queries import (
    AnyIter,
    Count,
    Doc,
    DocBody,
    Iter,
    Labels,
    Project,
    Router,
    query_labels,
)


def routes(db: RunDB) -> Router:
    router = Router()

    @router.put("/runs/{uid}")
    def store_run(uid: str, run: DocBody, project: Project, iter: Iter = 0) -> Doc:
        db.store_run(run, uid, project, iter)
        return {}

    @router.patch("/runs/{uid}")
    def update_run(uid: str, updates: DocBody, project: Project, iter: Iter = 0) -> Doc:
        return db.update_run(updates, uid, project, iter)

    @router.get("/runs/{uid}")
    def read_run(uid: str, project: Project, iter: Iter = 0) -> Doc:
        return db.read_run(uid, project, iter)

    @router.get("/runs")
    def list_runs(
        name: str | None = None,
        project: str | None = None,
        label: Labels = None,
        state: str | None = None,
        uid: str | None = None,
        iter: bool = False,
        last: Count = 0,
        offset: Count = 0,
        sort: str = "",
    ) -> list[Doc]:
        """Runs newest first (or by ``sort``); a page: ``last`` runs after the first
        ``offset``."""
        labels = query_labels(label)
        return db.list_runs(name, project, labels, state, uid, iter, last, offset, sort)

    @router.delete("/runs/{uid}")
    def del_run(uid: str, project: Project, iter: AnyIter = None) -> Doc:
        db.del_run(uid, project, iter)
        return {}

    @router.post("/runs/{uid}/abort")
    def abort(uid: str, project: Project, iter: Iter = 0) -> Doc:
        """Stop a run where it executes (the service's host, or its Kubernetes Job)."""
        return abort_run(db, uid, project, iter)

    return router
