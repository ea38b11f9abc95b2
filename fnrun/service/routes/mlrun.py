"""MLRun's REST API, the part MLRun's own SDK uses to track runs, over fnrun's run DB.

With ``MLRUN_DBPATH=http://<fnrun service>`` (token in ``MLRUN_HTTPDB__TOKEN``), MLRun's
``fn.run(local=True)`` and its context record the function, the run (store, update, read,
list), its log and its artifacts here, so fnrun's CLI and API show them. MLRun's client
sends ``x-mlrun-client-version`` on every request; the service routes such requests to these
routes (under the internal prefix :data:`MLRUN_PREFIX`), so one address serves both clients
even where their paths meet (``GET /api/v1/projects``). Paths and answer shapes follow
MLRun's HTTP client (``mlrun/db/httpdb.py``): runs and logs under
``/api/v1/projects/{project}/{runs|logs}/{uid}``, functions under
``/api/v1/projects/{project}/functions/{name}``, artifacts under ``/api/v2/projects/...``.

Not served (a 404 JSON naming the path): MLRun's server-side features (remote submission,
schedules in MLRun's format, pipelines, model monitoring, feature store, secrets API).
Inline secret values MLRun's client may put in a run's ``spec.secret_sources`` are masked
before the run is stored.
"""

import json
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from fnrun.db.base import RunDB
from fnrun.errors import InvalidArgumentError
from fnrun.service.queries import AnyIter, Count, Doc, Iter, Offset, Router, Size, query_labels
from fnrun.service.routes.logs import append_log, log_response

MLRUN_PREFIX = "/mlrun"  # internal; MLRun clients are routed here by their header
CLIENT_HEADER = "x-mlrun-client-version"


def routes(db: RunDB) -> Router:
    router = Router(prefix=MLRUN_PREFIX)

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw) if raw else {}
        except ValueError as exc:
            raise InvalidArgumentError(f"the body is not JSON: {exc}", field="body") from exc

    @router.get("/api/v1/client-spec")
    def client_spec(request: Request) -> Doc:
        """What MLRun's client reads on connect; the version echoes the client's (fnrun
        answers for the part of the API that client uses)."""
        return {"version": request.headers.get(CLIENT_HEADER) or "1.0.0", "namespace": "default",
                "telemetry_enabled": False, "telemetry_insecure": True,
                "telemetry_otlp_endpoint": "", "ce": {"mode": "fnrun"}}  # fmt: skip

    # -- projects --------------------------------------------------------------------------
    @router.get("/api/v1/projects")
    def list_projects() -> Doc:
        return {"projects": [_project(p) for p in db.list_projects()]}

    @router.get("/api/v1/projects/{name}")
    def get_project(name: str) -> Doc:
        return _project(db.get_project(name))

    @router.post("/api/v1/projects")
    async def create_project(request: Request) -> Doc:
        project = await body_of(request)
        name = str((project.get("metadata") or {}).get("name") or "")
        db.store_project(name, project)
        return _project(db.get_project(name))

    @router.put("/api/v1/projects/{name}")
    async def store_project(name: str, request: Request) -> Doc:
        db.store_project(name, await body_of(request))
        return _project(db.get_project(name))

    # -- functions -------------------------------------------------------------------------
    @router.post("/api/v1/projects/{project}/functions/{name}")
    async def store_function(
        project: str, name: str, request: Request, tag: str = "", versioned: bool = False
    ) -> Doc:
        function = await body_of(request)
        return {"hash_key": db.store_function(function, name, project, tag or "latest", versioned)}

    @router.get("/api/v1/projects/{project}/functions/{name}")
    def get_function(project: str, name: str, tag: str = "", hash_key: str = "") -> Doc:
        return {"func": db.get_function(name, project, tag, hash_key)}

    # -- runs ------------------------------------------------------------------------------
    @router.post("/api/v1/projects/{project}/runs/{uid}")
    async def store_run(project: str, uid: str, request: Request, iter: Iter = 0) -> Doc:
        db.store_run(_masked(await body_of(request)), uid, project, iter)
        return {}

    @router.patch("/api/v1/projects/{project}/runs/{uid}")
    async def update_run(project: str, uid: str, request: Request, iter: Iter = 0) -> Doc:
        updates = await body_of(request)
        db.update_run(_masked_updates(updates), uid, project, iter)
        return {}

    @router.get("/api/v1/projects/{project}/runs/{uid}")
    def read_run(project: str, uid: str, iter: Iter = 0) -> Doc:
        return {"data": db.read_run(uid, project, iter)}

    @router.delete("/api/v1/projects/{project}/runs/{uid}")
    def del_run(project: str, uid: str, iter: Iter = 0) -> Doc:
        db.del_run(uid, project, iter)
        return {}

    @router.get("/api/v1/projects/{project}/runs")
    def list_runs(
        project: str,
        name: str | None = None,
        uid: Annotated[list[str] | None, Query()] = None,
        label: Annotated[list[str] | None, Query()] = None,
        state: str | None = None,
        iter: bool = False,
        last: Count = 0,
    ) -> Doc:
        wanted = [u for u in uid or [] if u]
        runs = db.list_runs(name or None, None if project == "*" else project,
                            query_labels(label), state or None, None, iter, last)  # fmt: skip
        if wanted:
            runs = [r for r in runs if r["metadata"].get("uid") in wanted]
        return {"runs": runs, "pagination": {"page": None, "page-token": None}}

    # -- logs ------------------------------------------------------------------------------
    @router.post("/api/v1/projects/{project}/logs/{uid}")
    async def store_log(project: str, uid: str, request: Request, append: bool = True) -> Doc:
        await append_log(db, request, uid, project, append)
        return {}

    @router.get("/api/v1/projects/{project}/logs/{uid}")
    def get_log(project: str, uid: str, offset: Offset = 0, size: Size = -1) -> Response:
        return log_response(db, uid, project, offset, size, "x-mlrun-run-state")

    # -- artifacts (MLRun's v2 API) ----------------------------------------------------------
    @router.put("/api/v2/projects/{project}/artifacts/{key}")
    async def store_artifact(
        project: str,
        key: str,
        request: Request,
        tree: str = "",
        tag: str = "",
        iter: Iter = 0,
    ) -> Doc:
        artifact = await body_of(request)
        meta = artifact.get("metadata") or {}
        uid = tree or str(meta.get("tree") or meta.get("uid") or "")
        db.store_artifact(key, artifact, uid, iter, tag, project)
        return db.read_artifact(key, tag, iter, project, uid or None)

    @router.get("/api/v2/projects/{project}/artifacts/{key}")
    def read_artifact(
        project: str,
        key: str,
        tag: str = "",
        tree: str = "",
        iter: AnyIter = None,
    ) -> Doc:
        return db.read_artifact(key, tag, iter, project, tree or None)

    @router.get("/api/v2/projects/{project}/artifacts")
    def list_artifacts(
        project: str, name: str | None = None, tag: str | None = None, kind: str | None = None
    ) -> Doc:
        names = name.lstrip("~") if name else None
        return {"artifacts": db.list_artifacts(names, project, tag, None, kind)}

    return router


def rewrite_mlrun_path(path: str, default_project: str) -> str:
    """The internal path of an MLRun client's request: under :data:`MLRUN_PREFIX`, an empty
    project segment (MLRun's client sends ``projects//...`` when none is set) as the default."""
    return MLRUN_PREFIX + path.replace("/projects//", f"/projects/{default_project}/")


def _project(doc: Doc) -> Doc:
    out = dict(doc)
    out.setdefault("kind", "project")
    out.setdefault("spec", {})
    out.setdefault("status", {"state": "online"})
    return out


def _masked(run: Any) -> Any:
    if isinstance(run, dict):
        spec = run.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("secret_sources"), list):
            spec["secret_sources"] = [_mask_source(s) for s in spec["secret_sources"]]
    return run


def _masked_updates(updates: Any) -> Any:
    if not isinstance(updates, dict):
        return updates
    for key in list(updates):
        if key == "spec.secret_sources" and isinstance(updates[key], list):
            updates[key] = [_mask_source(s) for s in updates[key]]
        elif key == "spec" and isinstance(updates[key], dict):
            _masked({"spec": updates[key]})
    return updates


def _mask_source(source: Any) -> Any:
    if isinstance(source, dict) and source.get("kind") == "inline":
        values = source.get("source")
        masked = {k: "***" for k in values} if isinstance(values, dict) else "***"
        return {**source, "source": masked}
    return source
