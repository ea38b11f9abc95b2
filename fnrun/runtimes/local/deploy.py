"""Deploy a serving or nuclio function on this machine: ``fnrun serve`` as a background process.

The function document goes to ``$FNRUN_HOME/deploy/<project>/<name>/function.yaml``; the
server's output to ``server.log`` beside it. ``deploy`` waits until ``/v2/health`` answers,
records the address (and pid, port) in the function status and the run DB, and returns the URL.
Replicas are uvicorn worker processes; a child function's replicas (``add_child_function(name,
replicas=N)``) each run its Kafka trigger in one consumer group, so they share the topic's
partitions. Deploying again stops the previous server first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from fnrun.config import get_settings
from fnrun.db.monitor import process_alive
from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.model.graph import QueueStep
from fnrun.model.names import check_name, join_under
from fnrun.runtimes.platforms import DeployOptions, register_platform


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deploy_local(fn: Any, port: int = 0, workers: int = 0, timeout: float = 60.0) -> str:
    """Start the function's server(s); a graph over child functions gets one process per child,
    each consuming the Kafka topic of the queue in front of it."""

    settings = get_settings()
    fn.metadata.project = fn.metadata.project or settings.default_project
    stop_local(fn)
    folder = Path(
        join_under(
            str(Path(settings.home) / "deploy"),
            check_name(fn.metadata.project, "metadata.project"),
            check_name(fn.metadata.name, "metadata.name"),
        )
    )
    folder.mkdir(parents=True, exist_ok=True)
    children = {}
    for child, child_fn in child_functions(fn).items():
        child_folder = Path(join_under(str(folder), f"child-{check_name(child, 'child')}"))
        child_folder.mkdir(exist_ok=True)
        replicas = child_replicas(fn, child)
        children[child] = {
            **_start(child_fn, child_folder, 0, replicas, child, settings.home, timeout),
            "replicas": replicas,
        }
    workers = workers or fn.spec.replicas or fn.spec.min_replicas or 1
    root = _start(fn, folder, port, workers, "root" if children else "", settings.home, timeout)
    fn.status.state = "ready"
    fn.status.address = root["address"]
    fn.status.external_invocation_urls = [root["address"]]
    fn.status.extra = {**root, "workers": workers, "children": children}
    fn.save()
    return str(root["address"])


def _start(
    fn: Any, folder: Path, port: int, workers: int, part: str, home: Path, timeout: float
) -> dict[str, Any]:
    fn.export(str(folder / "function.yaml"))
    port = port or free_port()
    log = open(folder / "server.log", "ab")  # noqa: SIM115 - handed to the child process
    cmd = [
        sys.executable,
        "-m",
        "fnrun",
        "serve",
        str(folder / "function.yaml"),
        "--port",
        str(port),
        "--workers",
        str(workers),
        *(["--function", part] if part else []),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "FNRUN_HOME": str(home)},
    )
    address = f"http://127.0.0.1:{port}"
    _wait_healthy(address, proc, folder / "server.log", timeout)
    return {"pid": proc.pid, "port": port, "address": address, "log": str(folder / "server.log")}


def child_replicas(fn: Any, child: str) -> int:
    refs = [r for r in fn.spec.function_refs if r.get("name") == child]
    return int(refs[0].get("replicas") or 1) if refs else 1


def child_functions(fn: Any) -> dict[str, Any]:
    """For each child function of a graph: a copy of ``fn`` with a Kafka trigger on the topics
    of the queues its steps follow."""
    from fnrun.stream.kafka import parse_kafka_url

    graph = getattr(fn.spec, "graph", None)
    steps = getattr(graph, "steps", None) or {}
    defined = {ref.get("name") for ref in getattr(fn.spec, "function_refs", None) or []}
    out: dict[str, Any] = {}
    for step in steps.values():
        if not step.function or step.function in out:
            continue
        if step.function not in defined:  # MLRun's words
            raise InvalidArgumentError(
                f"function {step.function} is used in steps and is not defined",
                field=f"graph.{step.name}.function",
                hint=f"add it with fn.add_child_function({step.function!r}, ...) "
                "(its replicas, image or code)",
            )
        queues = [
            steps[p]
            for s in steps.values()
            if s.function == step.function
            for p in s.after
            if isinstance(steps.get(p), QueueStep)
        ]
        if not queues:
            raise InvalidArgumentError(
                f"child function {step.function!r} follows no queue",
                field=f"graph.{step.name}.function",
                hint="put a queue step (kafka://...) in front of it",
            )
        child = fn.copy()
        for queue in queues:
            brokers, topic = parse_kafka_url(queue.path)
            child.add_kafka_trigger(
                brokers,
                topic,
                name=f"q-{queue.name}",
                consumer_group=f"{fn.metadata.name}-{step.function}",
            )
        out[step.function] = child
    return out


def _wait_healthy(address: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FnrunError(
                f"the server exited with status {proc.returncode} while starting",
                field="deploy",
                hint=f"its output: {_tail(log)}",
            )
        try:
            with urllib.request.urlopen(f"{address}/v2/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    proc.terminate()
    raise FnrunError(
        f"the server did not become healthy within {timeout}s",
        field="deploy",
        hint=f"its output: {_tail(log)}",
    )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_local(fn: Any, timeout: float = 15.0) -> bool:
    """Stop the function's local server(s) (graceful SIGTERM, then SIGKILL); True if one ran."""
    extra = fn.status.extra or {}
    stopped = False
    for child in (extra.get("children") or {}).values():
        stopped = _stop_pid(child.get("pid"), timeout) or stopped
    stopped = _stop_pid(extra.get("pid"), timeout) or stopped
    if stopped:
        fn.status.state = "stopped"
    return stopped


def _stop_pid(pid: Any, timeout: float) -> bool:
    if not isinstance(pid, int) or not process_alive(pid):
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.05)
    if process_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    return True


def is_running(fn: Any) -> bool:
    pid = (fn.status.extra or {}).get("pid")
    return isinstance(pid, int) and process_alive(pid)


def invoke(
    fn: Any,
    path: str = "/",
    body: Any = None,
    method: str = "",
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Any:
    """Call the deployed function; JSON answers are decoded; errors raise with the body."""
    address = fn.status.address
    if not address:
        raise InvalidArgumentError(
            f"function {fn.metadata.name!r} is not deployed",
            field="status.address",
            hint="call fn.deploy() first",
        )
    data, ctype = _body(body)
    request = urllib.request.Request(
        f"{address}/{path.lstrip('/')}",
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={**({"Content-Type": ctype} if ctype else {}), **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return _decode(resp.read(), resp.headers.get("content-type", ""))
    except urllib.error.HTTPError as exc:
        detail = _decode(exc.read(), exc.headers.get("content-type", ""))
        message = detail.get("message", detail) if isinstance(detail, dict) else detail
        raise FnrunError(f"{path} answered {exc.code}: {message}", field="invoke") from exc
    except urllib.error.URLError as exc:
        raise FnrunError(
            f"cannot reach {address}: {exc.reason}",
            field="invoke",
            hint="is it deployed and running? `fnrun functions status`",
        ) from exc


def _body(body: Any) -> tuple[bytes | None, str]:
    if body is None:
        return None, ""
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain"
    return json.dumps(body).encode(), "application/json"


def _decode(data: bytes, ctype: str) -> Any:
    if "json" in ctype:
        return json.loads(data) if data else None
    if ctype.startswith("text/"):
        return data.decode("utf-8", errors="replace")
    return data


def _deploy(fn: Any, options: DeployOptions) -> str:
    return deploy_local(fn, port=options.port, workers=options.workers, timeout=options.timeout)


register_platform("local", _deploy)
