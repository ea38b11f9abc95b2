"""``TrafficSplit``: a router that sends shares of the traffic to model versions, sticky per
key, and mirrors a share to shadow routes without touching the answer.

- **Shares**: ``weights={"v1": 90, "v2": 10}`` over the routes (a route without a weight
  gets none, but answers its own path ``/v2/models/<route>/...``). Without ``sticky`` the
  routes take turns by smooth weighted round robin (exact shares, no randomness); with
  ``sticky`` (a header name, else a dotted body field such as ``"user.id"``) a key always
  gets the same route: a stable hash (BLAKE2b) of the key, the same across restarts and
  replicas. A request without the key takes the round robin.
- **Mirror**: ``mirror={"v3": 0.5}`` also sends that share of requests (chosen by a stable
  hash of the request id) to the shadow route after the primary answered, on a copy of the
  request made before the primary saw it: in a worker thread (sync routes) or a task on the
  loop (async ones), never delaying the answer. A shadow's answer and error go nowhere but
  its own tracking (a model's ``set_tracking``) and the counters; a shadow that fails, or
  hangs past ``mirror_timeout``, never changes the answer or its status. At most
  ``mirror_limit`` (1,000) shadow calls wait or run at once; beyond, mirroring is skipped and
  counted (a shadow slower than the traffic can never pile up without bound).
- **Live weights**: ``GET /v2/split`` answers the weights, sticky key and mirror; ``PUT
  /v2/split`` with ``{"weights": {...}}`` replaces them at once (requests in flight keep the
  route they got). Changing traffic is a control action, so a PUT needs ``Authorization:
  Bearer <secret>`` where ``admin_secret`` names the secret (from the server's secrets or
  environment); without one it is refused (403), except in the mock. A server with several
  worker processes refuses it (409): each worker has its own router, so a PUT would reach one
  of them; redeploy with the new weights instead.
- ``/metrics``: requests per route (``fnrun_split_requests_total``) and the mirror's calls,
  failures and skips; per-route latency and errors are the steps' own metrics.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
import os
import pickle
import queue
import threading
from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import Any

import fnrun.tracing as tracing
from fnrun.errors import AccessError, ConflictError, InvalidArgumentError
from fnrun.graph.event import get_path
from fnrun.graph.keys import stable_hash
from fnrun.graph.model_routers import ModelRouter

SPLIT_PATH = "/v2/split"
WORKERS_ENV = "FNRUN_SERVE_WORKERS"  # set by fnrun serve
MIRROR_LIMIT = 1000
MIRROR_THREADS = 2
_KEYS_KEPT = 65536  # sticky keys whose route is remembered (a dict lookup, not a hash)
_SCALE = 1 << 64
log = logging.getLogger("fnrun.graph")


class Forbidden(AccessError):
    http_status = 403


class Conflict(ConflictError):
    http_status = 409


class TrafficSplit(ModelRouter):
    step_class_name = "fnrun.serving.TrafficSplit"

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Callable[[Any], Any]] | None = None,
        weights: Mapping[str, float] | None = None,
        sticky: str = "",
        mirror: Mapping[str, float] | None = None,
        mirror_timeout: float = 30.0,
        mirror_limit: int = MIRROR_LIMIT,
        admin_secret: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(context, name, routes, **kwargs)
        if not isinstance(sticky, str):
            raise InvalidArgumentError(
                "sticky must be a header name or a body field path", field="sticky"
            )
        self.weights = check_weights(weights, "weights")
        self.sticky = sticky
        self.mirror = _check_shares(mirror)
        self.mirror_timeout = float(mirror_timeout)
        self.mirror_limit = int(mirror_limit)
        self.admin_secret = admin_secret
        self._lock = threading.Lock()
        self._plan = _Plan(self.weights)
        self.requests: dict[str, int] = {}
        self.mirrored: dict[str, int] = {}
        self.mirror_failed: dict[str, int] = {}
        self.mirror_skipped: dict[str, int] = {}
        self._mirroring = 0
        self._queue: queue.SimpleQueue[Any] | None = None  # sync shadows, for the workers
        self._tasks: set[asyncio.Task[Any]] = set()

    def post_init(self, mode: str = "sync") -> None:
        """The weights and mirror name routes the router has."""
        for field, names in (("weights", self.weights), ("mirror", self.mirror)):
            unknown = sorted(set(names) - set(self.routes))
            if unknown:
                raise InvalidArgumentError(
                    f"{field} name routes the router does not have: {', '.join(unknown)}",
                    field=field,
                    hint=f"routes: {', '.join(sorted(self.routes)) or 'none'} "
                    "(add them with fn.add_model(...))",
                )
        self.requests = {name: 0 for name in self.routes}

    # -- routing -----------------------------------------------------------------------------
    def do_event(self, event: Any) -> Any:
        path = event.path or "/"
        if path != "/":
            if path == SPLIT_PATH:
                return self._admin(event)
            if path.startswith("/v2/models/"):
                return super().do_event(event)  # a model named by its path, or the listing
        if not event.body and (event.method or "GET") == "GET":
            return super().do_event(event)  # the router's metadata
        shadows = self._shadows(event) if self.mirror else None
        out = self.routes[self.choose(event)](event)
        if shadows:
            if inspect.isawaitable(out):
                return self._then_mirror(out, shadows)
            self._mirror(shadows)
        return out

    def choose(self, event: Any) -> str:
        """The route of a request (counted): by its sticky key's hash, else the next turn."""
        plan = self._plan
        name = ""
        if self.sticky:
            key = _sticky_key(event, self.sticky)
            if key is not None:
                name = plan.by_key(key)
        with self._lock:
            if not name:
                name = plan.next_turn()
            self.requests[name] += 1
        return name

    # -- mirror ------------------------------------------------------------------------------
    def _shadows(self, event: Any) -> list[tuple[str, Any]]:
        """The shadow routes this request goes to, each with its own snapshot of it (taken
        before the primary can change it)."""
        rid = ""
        chosen = []
        for name, share in self.mirror.items():
            if share < 1.0:
                rid = rid or str(event.id)
                if not stable_hash(f"{name}/{rid}") < share * _SCALE:
                    continue
            chosen.append((name, snapshot(event)))
        return chosen

    async def _then_mirror(self, out: Any, shadows: list[tuple[str, Any]]) -> Any:
        answer = await out
        self._mirror(shadows)
        return answer

    def _mirror(self, shadows: list[tuple[str, Any]]) -> None:
        """Hand the shadows on (a queue put, or a task): never their work, on this path."""
        for name, copy in shadows:
            with self._lock:
                if self._mirroring >= self.mirror_limit:
                    self.mirror_skipped[name] = self.mirror_skipped.get(name, 0) + 1
                    continue
                self._mirroring += 1
            route = self.routes[name]
            if getattr(route, "is_async", False):
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    self._done(name, False)
                    continue
                task = loop.create_task(self._shadow_async(name, route, copy))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                if self._queue is None:
                    self._start_workers()
                # the trace goes along (the shadow's spans join the request's trace), not the
                # request's deadline: a shadow has its own (mirror_timeout)
                self._queue.put((name, route, copy, tracing.current()))  # type: ignore[union-attr]

    def _start_workers(self) -> None:
        with self._lock:
            if self._queue is not None:
                return
            self._queue = queue.SimpleQueue()
            for i in range(MIRROR_THREADS):
                threading.Thread(
                    target=self._shadow_worker, name=f"fnrun-mirror-{i}", daemon=True
                ).start()

    def _shadow_worker(self) -> None:
        work = self._queue
        assert work is not None
        while True:
            item = work.get()
            if item is None:
                return
            name, route, event, carried = item
            try:
                tracing.run_in(carried, route, event)
            except Exception as exc:
                self._done(name, False, exc)
            else:
                self._done(name, True)

    async def _shadow_async(self, name: str, route: Callable[[Any], Any], event: Any) -> None:
        try:
            await asyncio.wait_for(route(event), self.mirror_timeout)
        except Exception as exc:
            self._done(name, False, exc)
        else:
            self._done(name, True)

    def _done(self, name: str, ok: bool, exc: BaseException | None = None) -> None:
        with self._lock:
            self._mirroring -= 1
            self.mirrored[name] = self.mirrored.get(name, 0) + 1
            if not ok:
                self.mirror_failed[name] = self.mirror_failed.get(name, 0) + 1
        if exc is not None:
            log.debug("shadow route %r failed: %s", name, exc)

    def close(self) -> None:
        if self._queue is not None:
            for _ in range(MIRROR_THREADS):
                self._queue.put(None)  # each worker ends after the shadows already queued
        for task in list(self._tasks):
            task.cancel()

    # -- the split's own path ------------------------------------------------------------------
    def listing(self, parts: list[str]) -> dict[str, Any] | None:
        if parts == ["v2", "models"]:
            return {"models": sorted(self.routes), "weights": dict(self.weights)}
        return super().listing(parts)

    def _admin(self, event: Any) -> Any:
        method = (event.method or "GET").upper()
        if method == "PUT":
            self._check_admin(event)
            body = event.body if isinstance(event.body, dict) else {}
            weights = check_weights(body.get("weights"), "weights")
            unknown = sorted(set(weights) - set(self.routes))
            if unknown:
                raise InvalidArgumentError(
                    f"weights name routes the router does not have: {', '.join(unknown)}",
                    field="weights",
                    hint=f"routes: {', '.join(sorted(self.routes))}",
                )
            plan = _Plan(weights)
            with self._lock:  # one swap: a request has the old plan or the new one
                self.weights, self._plan = weights, plan
        elif method != "GET":
            raise InvalidArgumentError(
                f"{method} {SPLIT_PATH}: not a method of the split",
                field="method",
                hint="GET reads the split, PUT {'weights': {...}} changes it",
            )
        event.body = {"weights": dict(self.weights), "sticky": self.sticky,
                      "mirror": dict(self.mirror)}  # fmt: skip
        return event

    def _check_admin(self, event: Any) -> None:
        context = self.context
        if getattr(context, "is_mock", False):
            return
        workers = os.environ.get(WORKERS_ENV, "1")
        if workers.isdigit() and int(workers) > 1:
            raise Conflict(
                f"this server runs {workers} worker processes, each with its own split: a "
                "PUT would change one of them",
                field="weights",
                hint="redeploy with the new weights (or serve with one worker per replica)",
            )
        get_secret = getattr(context, "get_secret", None)
        secret = get_secret(self.admin_secret) if self.admin_secret and get_secret else None
        if not secret:
            raise Forbidden(
                "changing the split needs an admin secret, and none is configured",
                field="admin_secret",
                hint="TrafficSplit(..., admin_secret='SPLIT_TOKEN') with that secret set on "
                "the server, then send Authorization: Bearer <it>",
            )
        headers = getattr(event, "headers", None) or {}
        given = str(headers.get("authorization") or headers.get("Authorization") or "")
        token = given[7:] if given.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(token.encode(), secret.encode()):
            raise Forbidden(
                "the request's bearer token is not the split's admin secret",
                field="headers.authorization",
                hint="send Authorization: Bearer <the admin secret>",
            )

    def metric_samples(self, function: str) -> list[tuple[str, str, dict[str, str], float]]:
        base = {"function": function}
        out: list[tuple[str, str, dict[str, str], float]] = []
        with self._lock:
            for route, count in self.requests.items():
                labels = {**base, "route": route}
                out.append(("fnrun_split_requests", "counter", labels, count))
                out.append(("fnrun_split_weight", "gauge", labels, self.weights.get(route, 0.0)))
            for name, counts in (
                ("fnrun_mirror_requests", self.mirrored),
                ("fnrun_mirror_failures", self.mirror_failed),
                ("fnrun_mirror_skipped", self.mirror_skipped),
            ):
                for route in self.mirror:
                    labels = {**base, "route": route}
                    out.append((name, "counter", labels, counts.get(route, 0)))
        return out


class _Plan:
    """Where requests go under one set of weights: by hash, or by smooth weighted round
    robin (nginx's: each turn every route gains its weight, the highest is chosen and pays
    the total back; exact shares, evenly spread)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.names = [n for n, w in weights.items() if w > 0]
        self.shares = [float(weights[n]) for n in self.names]
        self.total = sum(self.shares)
        self.edges = list(accumulate(s / self.total for s in self.shares))
        self.current = [0.0] * len(self.names)
        self.known: dict[str, str] = {}  # sticky keys seen under these weights

    def by_key(self, key: str) -> str:
        name = self.known.get(key)
        if name is None:
            index = bisect_right(self.edges, stable_hash(key) / _SCALE)
            name = self.names[min(index, len(self.names) - 1)]
            if len(self.known) < _KEYS_KEPT:
                self.known[key] = name
        return name

    def next_turn(self) -> str:
        current, shares = self.current, self.shares
        best = 0
        for i, share in enumerate(shares):
            current[i] += share
            if current[i] > current[best]:
                best = i
        current[best] -= self.total
        return self.names[best]


def snapshot(event: Any) -> Any:
    """A copy of ``event`` the primary cannot reach: its body through pickle (a JSON-like
    body copies in half the time of deepcopy), else deep-copied."""
    copy = event.copy(deep_body=False)
    body = event.body
    if isinstance(body, dict | list):
        try:
            copy.body = pickle.loads(pickle.dumps(body, pickle.HIGHEST_PROTOCOL))
            return copy
        except Exception:
            pass
    return event.copy()


def check_weights(weights: Any, field: str) -> dict[str, float]:
    if not isinstance(weights, Mapping) or not weights:
        raise InvalidArgumentError(
            f"{field} must map route names to shares", field=field,
            hint='e.g. weights={"v1": 90, "v2": 10}',
        )  # fmt: skip
    out: dict[str, float] = {}
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise InvalidArgumentError(
                f"{field}[{name!r}] must be a number >= 0, got {value!r}", field=f"{field}.{name}"
            )
        out[str(name)] = float(value)
    if not sum(out.values()) > 0:
        raise InvalidArgumentError(f"{field} must give some route a share > 0", field=field)
    return out


def _check_shares(mirror: Any) -> dict[str, float]:
    if mirror is None:
        return {}
    if not isinstance(mirror, Mapping):
        raise InvalidArgumentError("mirror must map routes to shares (0 to 1)", field="mirror")
    out = {}
    for name, share in mirror.items():
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidArgumentError(
                f"mirror[{name!r}] must be a share from 0 to 1, got {share!r}",
                field=f"mirror.{name}",
            )
        out[str(name)] = float(share)
    return out


def _sticky_key(event: Any, sticky: str) -> str | None:
    headers = getattr(event, "headers", None) or {}
    value = headers.get(sticky)
    if value is None:
        value = headers.get(sticky.lower())
    if value is None and isinstance(event.body, dict):
        try:
            value = get_path(event.body, sticky)
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return None if value is None else str(value)
