"""``/api/v1/schedules``: cron schedules of a function's run, and running one now."""

from fnrun.db.base import RunDB
from fnrun.errors import ConflictError
from fnrun.service.queries import Doc, DocBody, Labels, Project, Router, query_labels
from fnrun.service.scheduler import Scheduler


def routes(db: RunDB, scheduler: Scheduler | None) -> Router:
    router = Router()

    @router.put("/schedules/{name}")
    def store_schedule(name: str, schedule: DocBody, project: Project) -> Doc:
        schedule.setdefault("metadata", {})
        if isinstance(schedule["metadata"], dict):
            schedule["metadata"]["name"] = name
        return db.store_schedule(schedule, project)

    @router.get("/schedules/{name}")
    def get_schedule(name: str, project: Project) -> Doc:
        return db.get_schedule(name, project)

    @router.get("/schedules")
    def list_schedules(
        project: str | None = None, name: str | None = None, label: Labels = None
    ) -> list[Doc]:
        return db.list_schedules(project, name, query_labels(label))

    @router.delete("/schedules/{name}")
    def delete_schedule(name: str, project: Project) -> Doc:
        db.delete_schedule(name, project)
        return {}

    @router.post("/schedules/{name}/invoke")
    def invoke_schedule(name: str, project: Project) -> Doc:
        """Run the schedule now (its planned times stay); answers the run."""
        if scheduler is None:
            raise ConflictError("this service runs no scheduler", field="name")
        return scheduler.invoke(name, project)

    return router
