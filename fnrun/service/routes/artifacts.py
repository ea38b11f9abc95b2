"""``/api/v1/artifacts``: artifact records, and their bytes (``/download``) from local files
under the service's artifact roots only."""

from pathlib import Path

from fastapi.responses import FileResponse, Response

from fnrun.db.base import RunDB
from fnrun.service.downloads import answer_headers, artifact_body
from fnrun.service.queries import AnyIter, Doc, DocBody, Iter, Labels, Project, Router, query_labels


def routes(db: RunDB, roots: list[Path]) -> Router:
    router = Router()

    @router.put("/artifacts/{key}")
    def store_artifact(
        key: str, artifact: DocBody, project: Project, uid: str, iter: Iter = 0, tag: str = ""
    ) -> Doc:
        db.store_artifact(key, artifact, uid, iter, tag, project)
        return {}

    @router.get("/artifacts/{key}")
    def read_artifact(
        key: str,
        project: Project,
        tag: str = "",
        iter: AnyIter = None,
        uid: str | None = None,
    ) -> Doc:
        return db.read_artifact(key, tag, iter, project, uid)

    @router.get("/artifacts")
    def list_artifacts(
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        label: Labels = None,
        kind: str | None = None,
    ) -> list[Doc]:
        return db.list_artifacts(name, project, tag, query_labels(label), kind)

    @router.delete("/artifacts/{key}")
    def del_artifact(key: str, project: Project, tag: str | None = None) -> Doc:
        db.del_artifact(key, project, tag)
        return {}

    @router.get("/artifacts/{key}/download", response_model=None)
    def download(
        key: str,
        project: Project,
        tag: str = "",
        iter: AnyIter = None,
        uid: str | None = None,
        path: str = "",
        inline: bool = False,
    ) -> Response:
        """The artifact's bytes; ``inline``: for the browser to draw a passive type (a
        picture, text; HTML and SVG under a sandboxing Content-Security-Policy: no scripts,
        its own origin), anything else still an attachment."""
        body = artifact_body(db.read_artifact(key, tag, iter, project, uid), roots, path)
        media, headers = answer_headers(body.filename, inline)
        if body.path is not None:
            return FileResponse(body.path, media_type=media, headers=headers)
        return Response(body.data, media_type=media, headers=headers)

    return router
