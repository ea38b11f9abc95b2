"""A client of the Nuclio dashboard REST API: deploy a function config and wait until ready.

``POST /api/functions`` (project in the ``x-nuclio-project-name`` header), then
``GET /api/functions/<name>`` until ``status.state`` is ``ready`` (or ``error``). Unreachable
dashboards and failed deploys are clear errors naming the URL and Nuclio's message.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from fnrun.errors import FnrunError

FINAL = ("ready", "error", "unhealthy")


class NuclioDashboard:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                text = resp.read()
                return resp.status, json.loads(text) if text.strip() else None
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise FnrunError(
                f"nuclio dashboard {method} {path} answered {exc.code}: {detail}",
                field="dashboard_url",
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FnrunError(
                f"cannot reach the nuclio dashboard at {self.url}: {getattr(exc, 'reason', exc)}",
                field="dashboard_url",
                hint="check dashboard_url (or FNRUN_NUCLIO_DASHBOARD) and that it runs",
            ) from exc

    def ensure_project(self, project: str) -> None:
        _, projects = self._call("GET", "/api/projects")
        if project not in (projects or {}):
            self._call("POST", "/api/projects", {"metadata": {"name": project}, "spec": {}})

    def deploy(
        self, config: dict[str, Any], project: str, wait: float = 600.0, poll: float = 1.0
    ) -> dict[str, Any]:
        """Deploy and wait; the function's final ``status`` (``ready``) or an error."""
        name = config["metadata"]["name"]
        self.ensure_project(project)
        self._call("POST", "/api/functions", config, {"x-nuclio-project-name": project})
        deadline = time.monotonic() + wait
        while True:
            _, function = self._call(
                "GET", f"/api/functions/{name}", headers={"x-nuclio-project-name": project}
            )
            status = (function or {}).get("status", {})
            if status.get("state") in FINAL:
                break
            if time.monotonic() > deadline:
                raise FnrunError(
                    f"nuclio function {name} not ready after {wait}s "
                    f"(state {status.get('state')!r})",
                    field="deploy",
                )
            time.sleep(poll)
        if status.get("state") != "ready":
            raise FnrunError(
                f"nuclio deploy of {name} failed: {status.get('message', status)}",
                field="deploy",
                hint="see the function's build log in the dashboard",
            )
        return dict(status)

    def delete(self, name: str, project: str) -> None:
        self._call(
            "DELETE",
            "/api/functions",
            {"metadata": {"name": name}},
            {"x-nuclio-project-name": project},
        )
