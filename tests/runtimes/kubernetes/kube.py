"""A Kubernetes API for tests: kmock's KubernetesEmulator on loopback (in a thread with its
own event loop, so the code under test uses the real, synchronous ``kubernetes`` client), and
a stand-in kubelet that plays the controllers: it makes each Job's pod, starts the pod's
container command and env as a local process (the ConfigMap 'mounted' in a folder, the
Secret's values for ``valueFrom``), serves its output as the pod's log and patches the pod's
and Job's status as Kubernetes would. What it does not do: schedule, pull images, enforce
resources or run a container runtime (a test names the state it wants instead).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

RESOURCES = ("v1/pods", "v1/configmaps", "v1/secrets", "batch/v1/jobs")
# the operators' custom resources, on an emulator made with ``operators=True``
OPERATOR_RESOURCES = (
    "kubeflow.org/v2beta1/mpijobs",
    "sparkoperator.k8s.io/v1beta2/sparkapplications",
    "kubernetes.dask.org/v1/daskclusters",
    "kubernetes.dask.org/v1/daskautoscalers",
)
WORKLOADS = {  # what the stand-in controllers follow: (group, version, plural)
    "Job": ("batch", "v1", "jobs"),
    "MPIJob": ("kubeflow.org", "v2beta1", "mpijobs"),
    "SparkApplication": ("sparkoperator.k8s.io", "v1beta2", "sparkapplications"),
    "DaskCluster": ("kubernetes.dask.org", "v1", "daskclusters"),
}


class Emulator:
    """``kmock.KubernetesEmulator`` served on 127.0.0.1 from a background event loop; with
    ``operators``, the MPI and Spark operators' kinds exist too (else the API has no such
    resources, as a cluster without those operators)."""

    def __init__(self, operators: bool = False) -> None:
        resources = RESOURCES + (OPERATOR_RESOURCES if operators else ())
        import kmock

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def start() -> tuple[Any, Any]:
            mock = kmock.KubernetesEmulator()
            await mock.__aenter__()
            server = kmock.Server(mock)
            await server.__aenter__()
            for resource in resources:
                mock.resources[resource] = {}
            return mock, server

        self.kmock, self.server = self.run(start())
        self.url = str(self.server.url).rstrip("/")

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def on_loop(self, fn: Callable[[], Any]) -> Any:
        async def call() -> Any:
            return fn()

        return self.run(call())

    def serve(self, path: str, body: bytes) -> None:
        """Answer ``GET path`` with ``body`` (a pod's log: no object store serves it)."""

        def add() -> None:
            self.kmock[f"get {path}"] << body

        self.on_loop(add)

    def kubeconfig(self, path: Path, namespace: str = "ml", context: str = "kmock") -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "kmock", "cluster": {"server": self.url}}],
                    "users": [{"name": "tester", "user": {"token": "t0ken"}}],
                    "contexts": [
                        {
                            "name": context,
                            "context": {
                                "cluster": "kmock",
                                "user": "tester",
                                "namespace": namespace,
                            },
                        }
                    ],
                    "current-context": context,
                }
            )
        )
        return path

    def client(self) -> Any:
        from kubernetes import client

        config = client.Configuration()
        config.host = self.url
        return client.ApiClient(config)

    def close(self) -> None:
        async def stop() -> None:
            await self.server.__aexit__(None, None, None)
            await self.kmock.__aexit__(None, None, None)

        try:
            self.run(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


def use_cluster(emulator: Emulator, tmp_path: Path, monkeypatch: Any) -> Emulator:
    """Point fnrun at ``emulator`` (a kubeconfig for it, quick polls, progress lines, local
    artifacts under ``tmp_path``)."""
    monkeypatch.setenv("FNRUN_K8S", str(emulator.kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("FNRUN_K8S_POLL", "0.05")
    monkeypatch.setenv("FNRUN_PROGRESS", "1")
    monkeypatch.setenv("FNRUN_ARTIFACT_PATH", str(tmp_path / "artifacts"))
    from fnrun.config import reset_settings

    reset_settings()
    return emulator


def as_kubelet(folder: Path, config_map: dict[str, Any], secret: dict[str, Any] | None,
               container: dict[str, Any]) -> dict[str, str]:  # fmt: skip
    """The environment the kubelet gives ``container``: its plain values, the Secret's value
    for the run's ``valueFrom``, and the run's ConfigMap 'mounted' in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, text in config_map["data"].items():
        (folder / key).write_text(text)
    env = dict(os.environ)
    for var in [v for v in env if v.startswith("FNRUN_")]:
        del env[var]  # only what the pod spec gives
    for entry in container["env"]:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
    env["FNRUN_EXEC_CONFIG_FILE"] = str(folder / "config.json")  # the mount, here
    if secret is not None:  # every valueFrom of the run's Secret, resolved
        values = dict(secret.get("stringData") or {})
        for key, b64 in (secret.get("data") or {}).items():
            values[key] = base64.b64decode(b64).decode()
        for entry in container["env"]:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref.get("name") == secret["metadata"]["name"]:
                env[entry["name"]] = values[ref["key"]]
    env["FNRUN_HOME"] = str(folder / "pod-home")  # the pod's own disk
    return env


def python_here(command: list[str]) -> list[str]:
    """The image's ``python ...`` with this venv's interpreter (fnrun installed, as the image),
    its ``spark-submit`` with the pyspark package's."""
    here = {"python": sys.executable}
    if command and command[0] == "spark-submit":
        import pyspark

        here["spark-submit"] = str(Path(pyspark.__file__).parent / "bin" / "spark-submit")
    return [here.get(part, part) for part in command]


class Kubelet:
    """Plays the Job controller and kubelet for every Job created on ``emulator`` (and, on an
    emulator with operators, the MPI and Spark operators: an MPIJob's launcher pod runs its
    command, mpirun included, here; a SparkApplication's driver pod runs spark-submit of its
    main file with ``--master local[1]``; MPI worker pods and Spark executors are not made,
    the ranks and executors run where mpirun and Spark put them: on this machine).

    ``behaviour`` per test: ``run`` (start the container command here; the pod and Job end
    as the process does), ``oom`` (the container is killed, OOMKilled, before it reports),
    ``waiting:<Reason>:<message>`` (the container never starts, as a bad image),
    ``unschedulable`` (no node fits), ``hold`` (the pod runs until its Job is deleted, then
    gets SIGTERM), ``evict-first`` (the first Job's pod is evicted by the node, as under memory
    pressure; later Jobs run).
    """

    def __init__(
        self,
        emulator: Emulator,
        folder: Path,
        behaviour: str = "run",
        entrypoint: Callable[[Kubelet, str, dict[str, Any]], tuple[int, bytes]] | None = None,
    ) -> None:
        from kubernetes import client

        self.emulator, self.folder, self.behaviour = emulator, folder, behaviour
        self.entrypoint = entrypoint  # a container with no command: its image's entrypoint
        api = emulator.client()
        self.core, self.batch = client.CoreV1Api(api), client.BatchV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.seen: set[str] = set()
        self.evicted = False
        self.pods: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, str] = {}
        self.dask_procs: dict[str, list[subprocess.Popen[bytes]]] = {}
        self.workers: list[threading.Thread] = []
        self.stop = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.release.set()
        self.thread.join(30)
        for worker in self.workers:  # before the emulator goes: they still talk to it
            worker.join(30)

    def _loop(self) -> None:
        while not self.stop.is_set():
            for kind, (group, version, plural) in WORKLOADS.items():
                try:
                    listed = self.custom.list_cluster_custom_object(
                        group, version, plural, _preload_content=False
                    )
                except Exception:
                    continue  # no such resource on this emulator (no operators)
                for doc in json.loads(listed.data)["items"]:
                    key = f"{kind}/{doc['metadata']['name']}"
                    if key not in self.seen:
                        self.seen.add(key)
                        worker = threading.Thread(target=self._start, args=(kind, doc), daemon=True)
                        self.workers.append(worker)
                        worker.start()
            time.sleep(0.05)

    def _start(self, kind: str, doc: dict[str, Any]) -> None:
        ns, name = doc["metadata"]["namespace"], doc["metadata"]["name"]
        if kind == "DaskCluster":
            self._dask_cluster(ns, name, doc)
            return
        if kind == "Job":
            template, pod_name = doc["spec"]["template"], f"{name}-x7k2p"
        elif kind == "MPIJob":
            template = doc["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]
            pod_name = f"{name}-launcher"
        else:
            template, pod_name = self._spark_driver(doc), f"{name}-driver"
        labels = {**template["metadata"]["labels"], "job-name": name}
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": ns, "labels": labels},
            "spec": template["spec"],
            "status": {"phase": "Pending"},
        }
        self.core.create_namespaced_pod(ns, pod)
        self.pods[name] = pod
        behaviour, _, detail = self.behaviour.partition(":")
        if behaviour == "waiting":
            reason, _, message = detail.partition(":")
            waiting = {"waiting": {"reason": reason, "message": message}}
            self._pod_status(ns, pod_name, "Pending", waiting)
            return
        if behaviour == "unschedulable":
            condition = {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
            }
            self._patch_pod(ns, pod_name, {"phase": "Pending", "conditions": [condition]})
            return
        if behaviour == "evict-first" and not self.evicted:
            self.evicted = True
            self._pod_status(ns, pod_name, "Running", {"running": {}})
            time.sleep(0.2)
            self._patch_pod(ns, pod_name, {
                "phase": "Failed", "reason": "Evicted",
                "message": "The node was low on resource: memory.",
                "containerStatuses": [{"name": "main", "state": {
                    "terminated": {"exitCode": 137, "reason": "Error"}}}],
            })  # fmt: skip
            self._end_workload(kind, ns, name, 137)
            return
        if behaviour == "oom":
            self.emulator.serve(f"/api/v1/namespaces/{ns}/pods/{pod_name}/log", b"loading...\n")
            self._pod_status(ns, pod_name, "Running", {"running": {}})
            time.sleep(0.3)
            self._end(kind, ns, name, pod_name, 137, "OOMKilled")
            return
        code, output = self._run_container(ns, pod, kind)
        self.outputs[name] = output.decode()
        self._end(kind, ns, name, pod_name, code, "Completed" if code == 0 else "Error")

    def _spark_driver(self, app: dict[str, Any]) -> dict[str, Any]:
        """The driver pod the Spark operator would make: spark-submit of the main file (in
        the run's ConfigMap, 'mounted' in the pod's folder) with the driver's env."""
        spec, name = app["spec"], app["metadata"]["name"]
        main = Path(spec["mainApplicationFile"].removeprefix("local://")).name
        folder = self.folder / f"{name}-driver"
        command = ["spark-submit", "--master", "local[1]", "--conf", "spark.ui.enabled=false"]
        for key in ("spark.driver.host", "spark.driver.bindAddress"):
            command += ["--conf", f"{key}=127.0.0.1"]
        container = {
            "name": "spark-kubernetes-driver",
            "image": spec["image"],
            "command": [*command, str(folder / main)],
            "env": [*spec["driver"]["env"], {"name": "PYSPARK_PYTHON", "value": "python"}],
        }
        pod_spec = {"containers": [container], "volumes": spec["volumes"]}
        return {"metadata": {"labels": spec["driver"]["labels"]}, "spec": pod_spec}

    def _run_container(self, ns: str, pod: dict[str, Any], kind: str = "Job") -> tuple[int, bytes]:
        (container,) = pod["spec"]["containers"]
        if not container.get("command") and self.entrypoint is not None:
            code, out = self.entrypoint(self, ns, pod)
            self.emulator.serve(f"/api/v1/namespaces/{ns}/pods/{pod['metadata']['name']}/log", out)
            self._pod_status(ns, pod["metadata"]["name"], "Running", {"running": {}})
            return code, out
        volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "fnrun-run")
        config_map = json.loads(
            self.core.read_namespaced_config_map(
                volume["configMap"]["name"], ns, _preload_content=False
            ).data
        )
        secret = None
        for entry in container["env"]:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref and secret is None:
                secret = json.loads(
                    self.core.read_namespaced_secret(ref["name"], ns, _preload_content=False).data
                )
        env = as_kubelet(self.folder / pod["metadata"]["name"], config_map, secret, container)
        env["PYSPARK_PYTHON"] = python_here(["python"])[0]
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")  # as root here
        proc = subprocess.Popen(
            python_here(container["command"]),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if self.behaviour == "hold":  # running (no log served) until its Job is deleted
            self._pod_status(ns, pod["metadata"]["name"], "Running", {"running": {}})
            job = pod["metadata"]["labels"]["job-name"]
            while not self.release.wait(0.05) and self._exists(kind, ns, job):
                pass
            proc.terminate()  # as the kubelet stops a deleted pod: SIGTERM first
        out, _ = proc.communicate(timeout=120)
        # the log is served once the output is known: the pod shows Running from then on
        self.emulator.serve(f"/api/v1/namespaces/{ns}/pods/{pod['metadata']['name']}/log", out)
        self._pod_status(ns, pod["metadata"]["name"], "Running", {"running": {}})
        time.sleep(0.2)
        return proc.returncode, out

    def _dask_cluster(self, ns: str, name: str, doc: dict[str, Any]) -> None:
        """The dask-kubernetes operator's part: a real ``dask scheduler`` and the spec's
        number of ``dask worker`` processes here (the scheduler on the port that
        FNRUN_K8S_DASK_ADDRESS names, as a port-forward would), ``status.phase: Running`` once
        they are up, everything stopped when the DaskCluster is deleted."""
        import shutil

        dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
        address = os.environ["FNRUN_K8S_DASK_ADDRESS"]
        port = address.rsplit(":", 1)[1]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        worker = doc["spec"]["worker"]
        args = worker["spec"]["containers"][0]["args"]
        nthreads = args[args.index("--nthreads") + 1]
        procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", port,
                                   "--no-dashboard"], **quiet)]  # fmt: skip
        worker_cmd = [dask, "worker", address, "--nthreads", nthreads, "--host", "127.0.0.1",
                      "--no-dashboard"]  # fmt: skip
        procs += [subprocess.Popen(worker_cmd, **quiet) for _ in range(int(worker["replicas"]))]
        self.dask_procs[name] = procs
        import distributed

        with distributed.Client(address, timeout="30s") as probe:
            probe.wait_for_workers(int(worker["replicas"]), timeout=60)
        group, version, plural = WORKLOADS["DaskCluster"]
        self.custom.patch_namespaced_custom_object_status(
            group, version, ns, plural, name, {"status": {"phase": "Running"}}
        )
        while not self.stop.is_set() and self._exists("DaskCluster", ns, name):
            time.sleep(0.1)
        for proc in reversed(procs):  # deleted: its pods go
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.dask_procs.pop(name, None)

    def config_map(self, ns: str, name: str) -> dict[str, Any]:
        raw = self.core.read_namespaced_config_map(name, ns, _preload_content=False).data
        return dict(json.loads(raw))

    def _exists(self, kind: str, ns: str, name: str) -> bool:
        group, version, plural = WORKLOADS[kind]
        try:
            self.custom.get_namespaced_custom_object(
                group, version, ns, plural, name, _preload_content=False
            )
        except Exception:
            return False
        return True

    def _end(self, kind: str, ns: str, name: str, pod: str, code: int, reason: str) -> None:
        terminated = {"terminated": {"exitCode": code, "reason": reason}}
        self._pod_status(ns, pod, "Succeeded" if code == 0 else "Failed", terminated)
        self._end_workload(kind, ns, name, code, pod)

    def _end_workload(self, kind: str, ns: str, name: str, code: int, pod: str = "") -> None:
        if kind == "SparkApplication":
            state = {"state": "COMPLETED"} if code == 0 else {
                "state": "FAILED", "errorMessage": f"driver container failed with ExitCode: {code}"
            }  # fmt: skip
            status: dict[str, Any] = {"applicationState": state, "driverInfo": {"podName": pod}}
        else:
            done = "Complete" if kind == "Job" else "Succeeded"
            condition = {"type": done if code == 0 else "Failed", "status": "True"}
            if code:
                condition.update(reason="BackoffLimitExceeded", message=f"{kind} has reached "
                                 "the specified backoff limit")  # fmt: skip
            status = {"conditions": [condition]}
        group, version, plural = WORKLOADS[kind]
        with contextlib.suppress(Exception):  # the workload was deleted meanwhile (an abort)
            self.custom.patch_namespaced_custom_object_status(
                group, version, ns, plural, name, {"status": status}
            )

    def _pod_status(self, ns: str, pod: str, phase: str, state: dict[str, Any]) -> None:
        self._patch_pod(
            ns, pod, {"phase": phase, "containerStatuses": [{"name": "main", "state": state}]}
        )

    def _patch_pod(self, ns: str, pod: str, status: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # deleted meanwhile
            self.core.patch_namespaced_pod_status(pod, ns, {"status": status})
