"""``HTTPRunDB``: the ``RunDB`` protocol over the fnrun service (``FNRUN_DBPATH=http://host:port``).

Each call is one request to :mod:`fnrun.service.rest`; the service's JSON errors come back as
the same exceptions the SQL DB raises (``NotFoundError``, ``InvalidArgumentError``...), so code
cannot tell the two apart. The token is ``FNRUN_TOKEN``. A request that could not be sent
(connection refused, reset) is retried with back-off, as is an idempotent one whose answer was
lost or that met a 502/503/504; appending to a log is not retried once sent (it would append
twice). After the retries: ``DBError`` naming the service.

The transport is urllib3 (a pool of kept-alive connections, safe to share between threads):
a request costs about a third of what it did through httpx (``benchmarks/service.py``), and a
run makes several. The proxy variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) are
honoured as before.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import fnrun.errors as errors
from fnrun.config import get_settings
from fnrun.db.base import Doc

_RETRY_STATUS = {502, 503, 504}
_ERRORS: dict[str, type[errors.FnrunError]] = {
    cls.__name__: cls
    for cls in (
        errors.InvalidArgumentError,
        errors.SchemaError,
        errors.NotFoundError,
        errors.ConflictError,
        errors.DBError,
        errors.IntegrityError,
        errors.AccessError,
    )
}


class HTTPRunDB:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        default_project: str = "",
        timeout: float = 30.0,
        retries: int = 5,
    ) -> None:
        import urllib3

        self.url = url.rstrip("/")
        self.default_project = default_project or get_settings().default_project
        self.retries = retries
        token = os.environ.get("FNRUN_TOKEN", "") if token is None else token
        self.token = token  # handed to the processes, pods and workers that run for us
        # x-fnrun-client: a header no page elsewhere can make a browser send unasked, so the
        # service (without a token) tells our writes from a cross-site form's
        headers = {"x-fnrun-client": "1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._headers = headers
        self._base = f"{self.url}/api/v1"
        self._pool = _pool(urllib3, self.url, urllib3.Timeout(connect=timeout, read=timeout))

    def close(self) -> None:
        self._pool.clear()

    def __repr__(self) -> str:
        return f"HTTPRunDB({self.url!r})"

    # -- the request -----------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        raw: bool = False,
    ) -> Any:
        from urllib3.exceptions import ConnectTimeoutError, HTTPError

        url = self._base + path
        query = _query(params)
        if query:
            url = f"{url}?{query}"
        headers = self._headers
        if json is not None:
            content = _dumps(json)
            headers = {**headers, "Content-Type": "application/json"}
        resend = method != "POST" or path.startswith("/functions/")  # store_function: by hash
        delay = 0.1
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._pool.request(
                    method, url, body=content, headers=headers, retries=False, redirect=False
                )
            except ConnectTimeoutError as exc:  # never sent (refused, unreachable): send again
                if last:
                    raise self._down(exc) from exc
            except HTTPError as exc:  # sent, answer lost
                if last or not resend:
                    raise self._down(exc) from exc
            else:
                if response.status in _RETRY_STATUS and resend and not last:
                    pass
                elif response.status >= 400:
                    raise self._error(response)
                else:
                    return response if raw else _loads(response.data)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def _down(self, exc: Exception) -> errors.DBError:
        return errors.DBError(
            f"the fnrun service at {self.url} cannot be reached: {exc}",
            field="FNRUN_DBPATH",
            hint="start it with `fnrun service` or fix FNRUN_DBPATH",
        )

    def _error(self, response: Any) -> errors.FnrunError:
        try:
            body = _loads(response.data)
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        cls = _ERRORS.get(str(body.get("error")), errors.FnrunError)
        if response.status == 401:
            cls = errors.AccessError
        message = str(body.get("message") or f"HTTP {response.status} from {self.url}")
        return cls(message, field=str(body.get("field") or ""), hint=str(body.get("hint") or ""))

    def _p(self, project: str | None) -> str:
        return project or self.default_project

    # -- projects --------------------------------------------------------------------------
    def store_project(self, name: str, project: Doc | None = None) -> None:
        self._call("PUT", f"/projects/{quote(name)}", json=project or {})

    def get_project(self, name: str) -> Doc:
        return dict(self._call("GET", f"/projects/{quote(name)}"))

    def list_projects(self) -> list[Doc]:
        return list(self._call("GET", "/projects"))

    def delete_project(self, name: str) -> None:
        self._call("DELETE", f"/projects/{quote(name)}")

    # -- functions -------------------------------------------------------------------------
    def store_function(
        self,
        function: Doc,
        name: str,
        project: str = "",
        tag: str = "latest",
        versioned: bool = True,
    ) -> str:
        params = {"project": self._p(project), "tag": tag, "versioned": versioned}
        answer = self._call("POST", f"/functions/{quote(name)}", params, json=function)
        return str(answer["hash_key"])

    def get_function(self, name: str, project: str = "", tag: str = "", hash_key: str = "") -> Doc:
        params = {"project": self._p(project), "tag": tag, "hash_key": hash_key}
        return dict(self._call("GET", f"/functions/{quote(name)}", params))

    def list_functions(
        self,
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[Doc]:
        params = {"name": name, "project": project, "tag": tag, "label": _labels(labels)}
        return list(self._call("GET", "/functions", params))

    def list_function_versions(self, name: str, project: str = "") -> list[Doc]:
        params = {"project": self._p(project)}
        return list(self._call("GET", f"/functions/{quote(name)}/versions", params))

    def tag_function(self, name: str, project: str, tag: str, hash_key: str) -> None:
        params = {"project": self._p(project), "hash_key": hash_key}
        self._call("PUT", f"/functions/{quote(name)}/tags/{quote(tag)}", params)

    def delete_function(self, name: str, project: str = "") -> None:
        self._call("DELETE", f"/functions/{quote(name)}", {"project": self._p(project)})

    # -- runs ------------------------------------------------------------------------------
    def store_run(self, run: Doc, uid: str, project: str = "", iter: int = 0) -> None:
        params = {"project": self._p(project), "iter": iter}
        self._call("PUT", f"/runs/{quote(uid)}", params, json=run)

    def update_run(
        self, updates: dict[str, Any], uid: str, project: str = "", iter: int = 0
    ) -> Doc:
        params = {"project": self._p(project), "iter": iter}
        return dict(self._call("PATCH", f"/runs/{quote(uid)}", params, json=updates))

    def read_run(self, uid: str, project: str = "", iter: int = 0) -> Doc:
        params = {"project": self._p(project), "iter": iter}
        return dict(self._call("GET", f"/runs/{quote(uid)}", params))

    def list_runs(
        self,
        name: str | None = None,
        project: str | None = None,
        labels: dict[str, str] | None = None,
        state: str | None = None,
        uid: str | None = None,
        iter: bool = False,
        last: int = 0,
        offset: int = 0,
        sort: str = "",
    ) -> list[Doc]:
        params = {"name": name, "project": project, "label": _labels(labels), "state": state,
                  "uid": uid, "iter": iter, "last": last, "offset": offset,
                  "sort": sort or None}  # fmt: skip
        return list(self._call("GET", "/runs", params))

    def del_run(self, uid: str, project: str = "", iter: int | None = None) -> None:
        self._call("DELETE", f"/runs/{quote(uid)}", {"project": self._p(project), "iter": iter})

    # -- artifacts -------------------------------------------------------------------------
    def store_artifact(
        self, key: str, artifact: Doc, uid: str, iter: int = 0, tag: str = "", project: str = ""
    ) -> None:
        params = {"project": self._p(project), "uid": uid, "iter": iter, "tag": tag}
        self._call("PUT", f"/artifacts/{quote(key)}", params, json=artifact)

    def read_artifact(
        self,
        key: str,
        tag: str = "",
        iter: int | None = None,
        project: str = "",
        uid: str | None = None,
    ) -> Doc:
        params = {"project": self._p(project), "tag": tag, "iter": iter, "uid": uid}
        return dict(self._call("GET", f"/artifacts/{quote(key)}", params))

    def list_artifacts(
        self,
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
        kind: str | None = None,
    ) -> list[Doc]:
        params = {"name": name, "project": project, "tag": tag, "label": _labels(labels),
                  "kind": kind}  # fmt: skip
        return list(self._call("GET", "/artifacts", params))

    def del_artifact(self, key: str, project: str = "", tag: str | None = None) -> None:
        self._call("DELETE", f"/artifacts/{quote(key)}", {"project": self._p(project), "tag": tag})

    # -- logs ------------------------------------------------------------------------------
    def store_log(
        self, uid: str, project: str = "", body: bytes = b"", append: bool = True
    ) -> None:
        params = {"project": self._p(project), "append": append}
        self._call("POST", f"/logs/{quote(uid)}", params, content=body)

    def get_log(
        self, uid: str, project: str = "", offset: int = 0, size: int = -1
    ) -> tuple[str, bytes]:
        params = {"project": self._p(project), "offset": offset, "size": size}
        response = self._call("GET", f"/logs/{quote(uid)}", params, raw=True)
        return response.headers.get("x-fnrun-run-state", ""), bytes(response.data)

    # -- schedules -------------------------------------------------------------------------
    def store_schedule(self, schedule: Doc, project: str = "") -> Doc:
        name = str((schedule.get("metadata") or {}).get("name") or "")
        params = {"project": self._p(project or schedule.get("metadata", {}).get("project"))}
        return dict(self._call("PUT", f"/schedules/{quote(name, safe='')}", params, json=schedule))

    def get_schedule(self, name: str, project: str = "") -> Doc:
        params = {"project": self._p(project)}
        return dict(self._call("GET", f"/schedules/{quote(name, safe='')}", params))

    def list_schedules(
        self,
        project: str | None = None,
        name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[Doc]:
        params = {"project": project, "name": name, "label": _labels(labels)}
        return list(self._call("GET", "/schedules", params))

    def delete_schedule(self, name: str, project: str = "") -> None:
        params = {"project": self._p(project)}
        self._call("DELETE", f"/schedules/{quote(name, safe='')}", params)

    # -- the service's own verbs (no SQL equivalent) ---------------------------------------
    def invoke_schedule(self, name: str, project: str = "") -> Doc:
        """Run schedule ``name`` now; the run's document."""
        params = {"project": self._p(project)}
        return dict(self._call("POST", f"/schedules/{quote(name, safe='')}/invoke", params))

    def submit_job(self, function: Doc | str, task: Doc, project: str = "") -> Doc:
        """Have the service run ``function`` with ``task``; the run's (pending) document."""
        body = {"function": function, "task": task, "project": self._p(project)}
        return dict(self._call("POST", "/submit", json=body))

    def abort_run(self, uid: str, project: str = "", iter: int = 0) -> Doc:
        """Abort the run where the service placed it."""
        params = {"project": self._p(project), "iter": iter}
        return dict(self._call("POST", f"/runs/{quote(uid)}/abort", params))

    def download_artifact(
        self, key: str, project: str = "", tag: str = "", path: str = ""
    ) -> bytes:
        """The body of artifact ``key`` (one file of a directory artifact by ``path``)."""
        params = {"project": self._p(project), "tag": tag, "path": path}
        response = self._call("GET", f"/artifacts/{quote(key)}/download", params, raw=True)
        return bytes(response.data)


def _labels(labels: dict[str, str] | None) -> list[str] | None:
    return [f"{k}={v}" for k, v in labels.items()] if labels else None


def _pool(urllib3: Any, url: str, timeout: Any) -> Any:
    """Kept-alive connections to the service (through the proxy the environment names for
    it, if any)."""
    parts = urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib3.ProxyManager(proxy, num_pools=2, maxsize=16, timeout=timeout)
    return urllib3.PoolManager(num_pools=2, maxsize=16, timeout=timeout)


def _query(params: dict[str, Any] | None) -> str:
    """The query string: None values left out, booleans as true/false, a list as the key
    repeated."""
    pairs: list[tuple[str, Any]] = []
    for key, value in (params or {}).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None:
                pairs.append((key, str(item).lower() if isinstance(item, bool) else item))
    return urlencode(pairs)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _loads(data: bytes) -> Any:
    return json.loads(data) if data else None
