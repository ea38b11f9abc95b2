"""A run's pod, built with the ``kubernetes`` client's models from the function's spec.

Every Kubernetes manifest of a run (a batch Job, an MPIJob's launcher and workers, a
SparkApplication's driver and executors, a DaskCluster's scheduler and workers) starts from
:func:`run_pod`: the image, the entry command, the run's config (a ConfigMap mounted at
``/fnrun/run``), its secrets (a Secret referenced by ``valueFrom``, never plain env values),
env, resources and GPUs, volumes and mounts, node selection, tolerations, affinity, service
account, pull policy and secret, and labels tying the pod to its project, function and run.
The ``kubernetes`` client is the ``k8s`` extra, imported only here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require

if TYPE_CHECKING:
    from fnrun.execution.execute import RunRequest
    from fnrun.model.function_like import RuntimeLike

RUN_DIR = "/fnrun/run"
IMAGE_ENV = "FNRUN_DEFAULT_IMAGE"
ENTRY = ["python", "-m", "fnrun", "exec", "--from-env"]
LAUNCHER = "from fnrun.runtimes.functions.entry import main\n\nraise SystemExit(main())\n"
REDACTED = "<redacted: set when the run is submitted>"
_LABEL = re.compile(r"[^-A-Za-z0-9_.]")


def k8s() -> Any:
    """The ``kubernetes.client`` module (the ``k8s`` extra)."""
    return require("kubernetes.client", "k8s", "Kubernetes manifests", package="kubernetes")


def to_dict(model: Any) -> Any:
    """A client model (or a structure of them) as the plain dict the API server reads."""
    return k8s().ApiClient().sanitize_for_serialization(model)


def from_dict(data: Any, model: str, field_name: str) -> Any:
    """A client model (``"V1Volume"``) from a function spec's dict, through the client's own
    deserializer: a wrong shape is an error naming the field, not a broken manifest."""

    import inspect

    api = k8s().ApiClient()
    text = json.dumps(data)
    try:
        if "content_type" in inspect.signature(api.deserialize).parameters:  # client >= 33
            return api.deserialize(text, model, "application/json")
        return api.deserialize(_Response(text), model)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgumentError(
            f"{field_name} is not a valid {model}: {exc}", field=field_name
        ) from exc


class _Response:
    """What older clients' ``deserialize`` reads: a response with ``.data``."""

    def __init__(self, data: str) -> None:
        self.data = data


@dataclass
class RunObjects:
    """What one run submits: its config, its secrets, and its workload."""

    name: str
    labels: dict[str, str]
    config_map: dict[str, Any]
    secret: dict[str, Any] | None
    db_url: str
    namespace: str = ""
    workload: list[dict[str, Any]] = field(default_factory=list)
    trace: dict[str, str] = field(default_factory=dict)  # TRACEPARENT of the run's trace

    def all(self) -> list[dict[str, Any]]:
        return [d for d in (self.secret, self.config_map, *self.workload) if d]


def run_name(fn: RuntimeLike, request: RunRequest) -> str:
    """``fnrun-<function>-<uid8>[-<iteration>][-r<retry>]``: a DNS-1123 name of at most 63
    characters."""
    base = _LABEL.sub("-", fn.metadata.name or request.name or "run")[:40].strip("-_.")
    tail = f"-{request.iteration}" if request.iteration else ""
    tail += f"-r{request.attempt}" if request.attempt else ""  # a retry: a Job of its own
    return f"fnrun-{base}-{request.uid[:8]}{tail}".lower().replace("_", "-").replace(".", "-")


def run_labels(fn: RuntimeLike, request: RunRequest) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/managed-by": "fnrun",
        "fnrun/project": request.project,
        "fnrun/function": fn.metadata.name or request.name,
        "fnrun/kind": fn.kind,
        "fnrun/uid": request.uid,
        "fnrun/iteration": str(request.iteration),
    }
    if request.attempt:  # a retry's pods, told apart from the earlier attempts'
        labels["fnrun/attempt"] = str(request.attempt)
    labels.update(request.labels)
    return {k: label_value(v) for k, v in labels.items() if v}


def run_objects(
    fn: RuntimeLike,
    request: RunRequest,
    db_url: str,
    namespace: str = "",
    with_secrets: bool = False,
    extra_files: dict[str, str] | None = None,
    db_token: str = "",
) -> RunObjects:
    """The run's ConfigMap (its config, and a launcher script) and Secret (the run's secrets
    and, when the run DB is the fnrun service, its token)."""
    from fnrun.execution.entry import exec_config

    name = run_name(fn, request)
    labels = run_labels(fn, request)
    client = k8s()
    meta = client.V1ObjectMeta(name=name, namespace=namespace or None, labels=labels)
    data = {"config.json": json.dumps(exec_config(request)), "main.py": LAUNCHER}
    data.update(extra_files or {})
    config_map = to_dict(
        client.V1ConfigMap(api_version="v1", kind="ConfigMap", metadata=meta, data=data)
    )
    secret = None
    values = {}
    if request.secrets:
        values["FNRUN_EXEC_SECRETS"] = json.dumps(request.secrets) if with_secrets else REDACTED
    if db_token:
        values["FNRUN_TOKEN"] = db_token if with_secrets else REDACTED
    if values:
        secret = to_dict(
            client.V1Secret(
                api_version="v1", kind="Secret", metadata=meta, type="Opaque", string_data=values
            )
        )
    return RunObjects(name, labels, config_map, secret, db_url, namespace,
                      trace=dict(request.trace))  # fmt: skip


def run_pod(
    fn: RuntimeLike,
    objects: RunObjects,
    command: list[str] | None = None,
    args: list[str] | None = None,
    container_name: str = "main",
    resources: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    restart_policy: str = "Never",
    role: str = "",
) -> Any:
    """A ``V1PodTemplateSpec`` running ``command`` (default: the fnrun entry) in the
    function's image with every pod knob of its spec; ``role`` (``launcher``, ``worker``)
    becomes its ``fnrun/role`` label, so the pod running the entry can be found."""
    client = k8s()
    spec = fn.spec
    env = [client.V1EnvVar(name=k, value=v) for k, v in _run_env(objects).items()]
    env += [client.V1EnvVar(name=k, value=v) for k, v in (extra_env or {}).items()]
    for key in (objects.secret or {}).get("stringData") or {}:  # each from the run's Secret
        env.append(env_from_secret(key, objects.name, key))
    for i, entry in enumerate(spec.env):
        env.append(from_dict(entry, "V1EnvVar", f"spec.env[{i}]"))
    volumes = [from_dict(v, "V1Volume", f"spec.volumes[{i}]") for i, v in enumerate(spec.volumes)]
    mounts = [
        from_dict(m, "V1VolumeMount", f"spec.volume_mounts[{i}]")
        for i, m in enumerate(spec.volume_mounts)
    ]
    volume, mount = config_map_volume("fnrun-run", objects.name, RUN_DIR)
    volumes.append(volume)
    mounts.append(mount)
    container = client.V1Container(
        name=container_name,
        image=image_of(fn),
        command=ENTRY if command is None else command,
        args=args or None,
        env=env,
        resources=k8s_resources(spec.resources if resources is None else resources),
        volume_mounts=mounts,
        image_pull_policy=spec.image_pull_policy or None,
        working_dir=spec.workdir or None,
    )
    return pod_template(
        [container], role_labels(objects, role), volumes, restart_policy, **_placement(spec)
    )


def pod_template(
    containers: list[Any],
    labels: dict[str, str],
    volumes: list[Any] | None = None,
    restart_policy: str | None = None,
    **pod: Any,
) -> Any:
    """The one place a pod is built: a ``V1PodTemplateSpec`` of ``containers`` labelled
    ``labels``, with ``volumes`` and the other ``V1PodSpec`` fields in ``pod`` (a run's
    placement knobs, ``automount_service_account_token``). Every pod fnrun makes comes from
    here: runs (Job, MPIJob, Spark, Dask), serving Deployments, Kaniko builds and the
    service's Deployment."""
    client = k8s()
    spec = client.V1PodSpec(
        containers=containers, restart_policy=restart_policy, volumes=volumes or None, **pod
    )
    return client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=spec)


def env_from_secret(env: str, secret: str, key: str) -> Any:
    """An env var read from a Secret's key (``valueFrom``): never the value itself."""
    client = k8s()
    ref = client.V1SecretKeySelector(name=secret, key=key)
    return client.V1EnvVar(name=env, value_from=client.V1EnvVarSource(secret_key_ref=ref))


def config_map_volume(volume: str, config_map: str, mount_path: str) -> tuple[Any, Any]:
    """A ConfigMap as a volume and its read-only mount at ``mount_path``."""
    client = k8s()
    source = client.V1ConfigMapVolumeSource(name=config_map)
    return (
        client.V1Volume(name=volume, config_map=source),
        client.V1VolumeMount(name=volume, mount_path=mount_path, read_only=True),
    )


def http_probe(path: str, port: int | str, period: int, **probe: Any) -> Any:
    """A probe that GETs ``path`` on ``port`` every ``period`` seconds."""
    client = k8s()
    action = client.V1HTTPGetAction(path=path, port=port)
    return client.V1Probe(http_get=action, period_seconds=period, **probe)


def _placement(spec: Any) -> dict[str, Any]:
    """The pod-level knobs of a function's spec: where it runs and as whom."""
    client = k8s()
    tolerations = [
        from_dict(t, "V1Toleration", f"spec.tolerations[{i}]")
        for i, t in enumerate(spec.tolerations or [])
    ]
    pull_secret = spec.image_pull_secret
    context = spec.security_context
    return {
        "service_account_name": spec.service_account or None,
        "node_name": spec.node_name or None,
        "node_selector": dict(spec.node_selector) or None,
        "tolerations": tolerations or None,
        "affinity": from_dict(spec.affinity, "V1Affinity", "spec.affinity")
        if spec.affinity
        else None,
        "priority_class_name": spec.priority_class_name or None,
        "image_pull_secrets": [client.V1LocalObjectReference(name=pull_secret)]
        if pull_secret
        else None,
        "security_context": from_dict(context, "V1PodSecurityContext", "spec.security_context")
        if context
        else None,
    }


def role_labels(objects: RunObjects, role: str) -> dict[str, str]:
    """The run's labels, with ``fnrun/role`` when the pod has one."""
    return {**objects.labels, "fnrun/role": role} if role else dict(objects.labels)


def image_of(fn: RuntimeLike) -> str:
    image = fn.spec.image or os.environ.get(IMAGE_ENV, "")
    if not image:
        raise InvalidArgumentError(
            f"function {fn.metadata.name!r} has no image for its pods",
            field="spec.image",
            hint=f"set fn.spec.image to an image with fnrun installed (or {IMAGE_ENV})",
        )
    return str(image)


def k8s_resources(resources: dict[str, Any]) -> Any:
    """Requests and limits with every quantity a string (the client refuses integers)."""
    sections = {
        name: {key: str(value) for key, value in (resources.get(name) or {}).items()}
        for name in ("requests", "limits")
        if resources.get(name)
    }
    return k8s().V1ResourceRequirements(**sections) if sections else None


def _run_env(objects: RunObjects) -> dict[str, str]:
    return {
        "FNRUN_EXEC_CONFIG_FILE": f"{RUN_DIR}/config.json",
        "FNRUN_DBPATH": objects.db_url,
        "PYTHONUNBUFFERED": "1",
        **objects.trace,  # TRACEPARENT for the pod's own code (the run reads its config's)
    }


def label_value(value: Any) -> str:
    return _LABEL.sub("-", str(value))[:63].strip("-_.")
