"""``/api/v1/functions``: function versions by name, tag and hash."""

from fnrun.db.base import RunDB
from fnrun.service.queries import Doc, DocBody, Labels, Project, Router, query_labels


def routes(db: RunDB) -> Router:
    router = Router()

    @router.post("/functions/{name}")
    def store_function(
        name: str, function: DocBody, project: Project, tag: str = "latest", versioned: bool = True
    ) -> Doc:
        return {"hash_key": db.store_function(function, name, project, tag, versioned)}

    @router.get("/functions/{name}")
    def get_function(name: str, project: Project, tag: str = "", hash_key: str = "") -> Doc:
        return db.get_function(name, project, tag, hash_key)

    @router.get("/functions")
    def list_functions(
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        label: Labels = None,
    ) -> list[Doc]:
        return db.list_functions(name, project, tag, query_labels(label))

    @router.get("/functions/{name}/versions")
    def list_function_versions(name: str, project: Project) -> list[Doc]:
        return db.list_function_versions(name, project)

    @router.put("/functions/{name}/tags/{tag}")
    def tag_function(name: str, tag: str, project: Project, hash_key: str) -> Doc:
        db.tag_function(name, project, tag, hash_key)
        return {}

    @router.delete("/functions/{name}")
    def delete_function(name: str, project: Project) -> Doc:
        db.delete_function(name, project)
        return {}

    return router
