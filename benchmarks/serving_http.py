"""HTTP serving throughput: fnrun's front-end against a raw uvicorn endpoint doing the same work.

    python benchmarks/serving_http.py [--seconds 4] [--rounds 3] [--connections 32]  # needs wrk

(Not ``http.py``: a file of that name beside the other scripts shadows the standard library's
``http`` package for every script run from this folder, e.g. MLRun's import in mlrun_graph.py.)

Each case starts a uvicorn server (1 and 2 worker processes), drives it with wrk (POST JSON),
and reports requests/s and p50/p99 latency: both servers run at once and are measured in
turns (raw, fnrun, raw, fnrun, ...), medians of the rounds, so drift of this shared machine
hits both alike. The ceiling is a bare ASGI app doing the same work
directly; fnrun serves a 1-step graph, a 5-step graph and a router with one V2ModelServer
(``/v2/models/m1/infer``, row-list protocol) through ``fnrun serve``, and that router with
every request tracked to a folder (``set_tracking``), and traced with OpenTelemetry's SDK
(``OTEL_TRACES_EXPORTER=otlp``: spans exported over OTLP/HTTP in batches to a receiver in this
script that drops them; it shares the machine's cores like the collector a server ships to).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

STEPS = """
def inc(body):
    body["n"] = body.get("n", 0) + 1
    return body


from fnrun.serving import V2ModelServer


class SumModel(V2ModelServer):
    def predict(self, request):
        return [sum(row) for row in request["inputs"]]
"""

RAW_APP = """
import json
from datetime import UTC, datetime


def inc(body):
    body["n"] = body.get("n", 0) + 1
    return body


STEPS = {steps}
MODEL = {model}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    data = json.loads(body)
    if MODEL:
        data = {
            "id": 1,
            "model_name": "m1",
            "model_version": "",
            "outputs": [sum(row) for row in data["inputs"]],
            "timestamp": datetime.now(UTC).isoformat(),
        }
    else:
        for _ in range(STEPS):
            data = inc(data)
    out = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})
"""

LUA = (
    'wrk.method = "POST"\nwrk.body = \'{body}\'\nwrk.headers["Content-Type"] = "application/json"\n'
)


MODEL_BODY = '{"inputs": [[1, 2, 3], [4, 5, 6]]}'


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def _wrk(
    port: int, seconds: int, connections: int, script: Path, path: str = "/"
) -> tuple[float, float, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, pct("50"), pct("99")


def _start(cmd: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait(port)
    except RuntimeError as exc:
        proc.terminate()
        raise RuntimeError(f"{exc}: {log.read_text()[-2000:]}") from exc
    return proc


def _compare(
    servers: list[tuple[list[str], int]],
    env: dict[str, str],
    args: argparse.Namespace,
    script: Path,
    path: str,
) -> list[tuple[float, float, float]]:
    """Both servers up at once, measured in turn ``--rounds`` times (raw, fnrun, raw, ...):
    the machine's drift hits both alike. Medians per server."""
    procs = [_start(cmd, port, env, script.parent / f"server-{port}.log") for cmd, port in servers]
    try:
        for _, port in servers:
            _wrk(port, 2, args.connections, script, path)  # warm-up
        runs: list[list[tuple[float, float, float]]] = [[] for _ in servers]
        for _ in range(args.rounds):
            for i, (_, port) in enumerate(servers):
                runs[i].append(_wrk(port, args.seconds, args.connections, script, path))
        return [
            (
                statistics.median(r[0] for r in server_runs),
                statistics.median(r[1] for r in server_runs),
                statistics.median(r[2] for r in server_runs),
            )
            for server_runs in runs
        ]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="turns of raw then fnrun")
    parser.add_argument("--cases", default="", help="e.g. 1-step,5-steps,router+model")
    parser.add_argument("--workers", default="1,2", help="worker counts to run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="fnrun-http-"))
    (work / "steps.py").write_text(STEPS)
    env = {**os.environ, "FNRUN_HOME": str(work / "home"), "PYTHONPATH": str(work)}
    import fnrun

    rows = []
    for label, steps, path in (
        ("1 step", 1, "/"),
        ("5 steps", 5, "/"),
        ("router+model", 1, "/v2/models/m1/infer"),
        ("router+model tracked", 1, "/v2/models/m1/infer"),
        ("router+model traced", 1, "/v2/models/m1/infer"),
        ("router+model traced 1%", 1, "/v2/models/m1/infer"),
    ):
        if args.cases and label.replace(" ", "-") not in args.cases.split(","):
            continue
        model = label.startswith("router+model")
        raw_name = f"raw_{label.replace('+', '_').replace(' ', '_')}"
        (work / f"{raw_name}.py").write_text(
            RAW_APP.replace("{steps}", str(steps)).replace("{model}", str(model))
        )
        script = work / f"{raw_name}.lua"
        script.write_text(LUA.replace("{body}", MODEL_BODY if model else '{"n": 0}'))
        fn = fnrun.code_to_function(f"g{steps}", filename=str(work / "steps.py"), kind="serving")
        if model:
            fn.add_model("m1", class_name="SumModel", model=True)  # type: ignore[attr-defined]
        else:
            graph = fn.set_topology("flow")  # type: ignore[attr-defined]
            for i in range(steps):
                graph.to(handler="inc", name=f"s{i}")
        if label.endswith("tracked"):  # every request's record to a folder (tracking taps)
            fn.set_tracking(str(work / "tracking"))  # type: ignore[attr-defined]
        case_env = env
        if "traced" in label:  # every request a span, each step a child span
            case_env = {**env, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "bench",
                        "OTEL_EXPORTER_OTLP_ENDPOINT": _span_sink()}  # fmt: skip
            if label.endswith("1%"):  # the SDK's own sampler: 1 request in 100 recorded
                case_env["OTEL_TRACES_SAMPLER"] = "traceidratio"
                case_env["OTEL_TRACES_SAMPLER_ARG"] = "0.01"
        yaml = work / f"{label.replace('+', '-').replace(' ', '-')}.yaml"
        fn.export(str(yaml))
        for workers in [int(w) for w in args.workers.split(",")]:
            port = _free_port()
            raw = [
                sys.executable,
                "-m",
                "uvicorn",
                f"{raw_name}:app",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ]
            fnrun_port = _free_port()
            ours = [
                sys.executable,
                "-m",
                "fnrun",
                "serve",
                str(yaml),
                "--port",
                str(fnrun_port),
                "--workers",
                str(workers),
            ]
            ceiling, served = _compare(
                [(raw, port), (ours, fnrun_port)], case_env, args, script, path
            )
            rows.append((label, workers, ceiling, served))
    print(
        f"{'graph':<10} {'workers':>7} {'raw req/s':>10} {'fnrun req/s':>12} {'ratio':>6} "
        f"{'raw p50/p99 ms':>15} {'fnrun p50/p99 ms':>17}"
    )
    for label, workers, (r_rps, r50, r99), (f_rps, f50, f99) in rows:
        print(
            f"{label:<12} {workers:>5} {r_rps:>10.0f} {f_rps:>12.0f} {f_rps / r_rps:>6.2f} "
            f"{r50:>7.2f}/{r99:<7.2f} {f50:>8.2f}/{f99:<8.2f}"
        )
    if EXPORTS:
        print(f"span batches exported by the traced servers: {len(EXPORTS)}")


EXPORTS: list[int] = []


def _span_sink() -> str:
    """An OTLP/HTTP receiver that reads each export and drops it: the URL to export to."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Sink(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            EXPORTS.append(1)  # the table says how many batches arrived: tracing really ran
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":
    main()
