"""``/api/v1/projects``: store, read, list and delete projects."""

from fastapi import APIRouter

from fnrun.db.base import RunDB
from fnrun.service.queries import Doc, DocBody


def routes(db: RunDB) -> APIRouter:
    router = APIRouter()

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
