"""``/api/v1/projects``: store, read, list and delete projects."""

from fnrun.db.base import RunDB
from fnrun.service.queries import Doc, DocBody, Router


def routes(db: RunDB) -> Router:
    router = Router()

    @router.put("/projects/{name}")
    def store_project(name: str, project: DocBody) -> Doc:
        db.store_project(name, project or None)
        return {}

    @router.get("/projects/{name}")
    def get_project(name: str) -> Doc:
        return db.get_project(name)

    @router.get("/projects")
    def list_projects() -> list[Doc]:
        return db.list_projects()

    @router.delete("/projects/{name}")
    def delete_project(name: str) -> Doc:
        db.delete_project(name)
        return {}

    return router
