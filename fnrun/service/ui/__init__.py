"""The web UI, served by the fnrun service under ``/ui`` (pages: :mod:`.pages`).

Everything it needs is served from here (its CSS and script in ``static/``, pictures inline):
it works offline. With a token, a person signs in once at ``/ui/login`` (a session cookie
that opens reads only: :mod:`fnrun.service.access`).

May import: the service's own modules, runtimes and every layer below.
"""

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from fnrun.db.base import RunDB
from fnrun.notebook.templating import package_script_path
from fnrun.service.access import SESSION_COOKIE
from fnrun.service.downloads import preview_bytes
from fnrun.service.sessions import Sessions
from fnrun.service.ui import pages
from fnrun.service.ui.layout import UI, page
from fnrun.service.ui.serving_metrics import MetricsViews
from fnrun.service.ui.tracked_view import TrackedViews

STATIC = Path(__file__).resolve().parent / "static"
Many = Annotated[list[str] | None, Query()]


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


def ui_routes(db: RunDB, token: str, roots: list[Path], sessions: Sessions) -> APIRouter:
    """The UI's routes; artifact previews read only what the download route serves from
    ``roots``; sign-in opens one of ``sessions``."""
    router = APIRouter(prefix=UI, include_in_schema=False)
    metrics = MetricsViews()
    tracked = TrackedViews(roots)

    def reader(_key: str, doc: dict[str, Any], limit: int) -> bytes:
        return preview_bytes(doc, roots, limit)

    def html(text: str) -> HTMLResponse:
        return HTMLResponse(text)  # its security headers: fnrun.service.guard, on every answer

    @router.get("")
    def home() -> HTMLResponse:
        return html(pages.projects_page(db))

    @router.get("/login")
    def login_form(next: str = UI, failed: bool = False) -> HTMLResponse:
        return html(page("login.html", "sign in", [("sign in", "")], failed=failed,
                         next=_next_path(next)))  # fmt: skip

    @router.post("/login")
    async def login(request: Request) -> Response:
        import hmac

        fields = parse_qs((await request.body()).decode(errors="replace"))
        given = (fields.get("token") or [""])[0]
        target = _next_path((fields.get("next") or [UI])[0])
        if token and not hmac.compare_digest(given.encode(), token.encode()):
            again = f"{UI}/login?{urlencode({'failed': 1, 'next': target})}"
            return RedirectResponse(again, status_code=303)
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(SESSION_COOKIE, sessions.open(), httponly=True, samesite="strict",
                          secure=request.url.scheme == "https", path="/",
                          max_age=int(sessions.ttl.total_seconds()))  # fmt: skip
        return answer

    @router.api_route("/logout", methods=["GET", "POST"])
    def logout(request: Request) -> Response:
        sessions.close(request.cookies.get(SESSION_COOKIE, ""))  # revoked, not just forgotten
        answer = RedirectResponse(f"{UI}/login", status_code=303)
        answer.delete_cookie(SESSION_COOKIE, path="/")
        return answer

    @router.get("/hub")
    def hub(q: str = "") -> HTMLResponse:
        return html(pages.hub_page(q))

    @router.get("/hub/{source}/{name}")
    def hub_item(source: str, name: str, tag: str = "latest") -> HTMLResponse:
        return html(pages.hub_item_page(source, name, tag))

    @router.get("/projects/{project}")
    def project(project: str) -> HTMLResponse:
        return html(pages.project_page(db, project))

    @router.get("/projects/{project}/runs")
    def runs(
        project: str,
        name: str = "",
        state: str = "",
        label: Many = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        sort: str = "",
    ) -> HTMLResponse:
        query: dict[str, Any] = {"name": name, "state": state, "label": label, "page": page,
                                 "sort": sort}  # fmt: skip
        return html(pages.runs_page(db, project, query))

    @router.get("/projects/{project}/runs/{uid}")
    def run(project: str, uid: str) -> HTMLResponse:
        return html(pages.run_page(db, project, uid, reader))

    @router.get("/projects/{project}/compare")
    def compare(project: str, uid: Many = None, result: str = "") -> HTMLResponse:
        return html(pages.compare_page(db, project, uid or [], result))

    @router.get("/projects/{project}/runs/{uid}/charts/{key}")
    def chart(project: str, uid: str, key: str) -> HTMLResponse:
        text = pages.chart_page(db, project, uid, key, reader)
        return HTMLResponse(text, headers={"content-security-policy": pages.CHART_CSP})

    @router.get("/static/plotly.min.js")
    def plotly_js() -> Response:
        """The installed plotly package's plotly.js (charts draw with no internet)."""
        from fastapi.responses import FileResponse

        path = package_script_path("plotly")
        if path is None:
            return Response("plotly is not installed where the service runs", status_code=404)
        return FileResponse(path, media_type="text/javascript",
                            headers={"cache-control": "public, max-age=86400"})  # fmt: skip

    @router.get("/projects/{project}/functions/{name}")
    def function(project: str, name: str, a: str = "", b: str = "", step: str = "") -> HTMLResponse:
        return html(pages.function_page(db, project, name, a, b, metrics, tracked, step))

    return router


def _next_path(target: str) -> str:
    """Only a path inside the UI (no open redirect elsewhere)."""
    ok = target.startswith(UI) and not target.startswith("//") and "\\" not in target
    return target if ok else UI


def error_page(status: int, message: str, hint: str) -> HTMLResponse:
    """A 4xx/5xx of the UI as a page a person reads."""
    text = page("error.html", f"error {status}", [("projects", UI)], message=message, hint=hint)
    return HTMLResponse(text, status_code=status)
