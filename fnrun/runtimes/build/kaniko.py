"""Build on the cluster: a ``batch/v1`` Job running the Kaniko executor on the build
context, which it reads from a ConfigMap (the context's deterministic tarball, so it must
stay under Kubernetes' 1 MiB object limit) and pushes to the registry; the registry
credentials are a ``kubernetes.io/dockerconfigjson`` Secret named by
``build_config(secret=...)``, mounted as Kaniko's ``config.json``. The ConfigMap is owned by
the Job and goes with it. Built with the ``kubernetes`` client's models."""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.kubernetes.manifests.pod import (
    config_map_volume,
    k8s,
    label_value,
    pod_template,
    to_dict,
)
from fnrun.runtimes.local.build import BuildError

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.build.context import BuildContext
    from fnrun.runtimes.kubernetes.cluster import Cluster

KANIKO_IMAGE_ENV = "FNRUN_KANIKO_IMAGE"
KANIKO_IMAGE = "gcr.io/kaniko-project/executor:v1.23.2"
MAX_CONTEXT = 1024 * 1024 - 64 * 1024  # the ConfigMap's limit, less room for its metadata
CONTEXT_FILE = "context.tar.gz"


def build_name(fn: RuntimeLike, context: BuildContext) -> str:
    base = label_value(fn.metadata.name or "fn")[:40].strip("-").lower().replace("_", "-")
    return f"fnrun-build-{base}-{context.digest[:10]}"


def kaniko_manifests(
    fn: RuntimeLike, context: BuildContext, namespace: str = "", push: bool = True
) -> list[dict[str, Any]]:
    """The build's ConfigMap (the context) and Job."""
    if len(context.tarball) > MAX_CONTEXT:
        raise InvalidArgumentError(
            f"the build context is {len(context.tarball) // 1024} KiB, over what a ConfigMap "
            f"holds ({MAX_CONTEXT // 1024} KiB)",
            field="spec.build",
            hint="give a remote source (fn.with_source_archive('git://...')) fetched at run "
            "time, or build with a local docker/podman/buildah",
        )
    client = k8s()
    name = build_name(fn, context)
    labels = {
        "app.kubernetes.io/managed-by": "fnrun",
        "fnrun/build": context.digest[:40],
        "fnrun/function": label_value(fn.metadata.name),
        "fnrun/project": label_value(fn.metadata.project or "default"),
    }
    meta = client.V1ObjectMeta(name=name, namespace=namespace or None, labels=labels)
    config_map = client.V1ConfigMap(
        api_version="v1",
        kind="ConfigMap",
        metadata=meta,
        binary_data={CONTEXT_FILE: base64.b64encode(context.tarball).decode()},
    )
    args = [
        "--dockerfile=Dockerfile",
        f"--context=tar:///workspace/{CONTEXT_FILE}",
        f"--destination={context.image}",
        "--reproducible",
    ]
    if not push:
        args.append("--no-push")
    volume, mount = config_map_volume("context", name, "/workspace")
    volumes, mounts = [volume], [mount]
    secret = fn.spec.build.secret
    if secret:
        items = [client.V1KeyToPath(key=".dockerconfigjson", path="config.json")]
        volumes.append(
            client.V1Volume(
                name="registry", secret=client.V1SecretVolumeSource(secret_name=secret, items=items)
            )
        )
        mounts.append(client.V1VolumeMount(name="registry", mount_path="/kaniko/.docker"))
    container = client.V1Container(
        name="kaniko",
        image=os.environ.get(KANIKO_IMAGE_ENV) or KANIKO_IMAGE,
        args=args,
        volume_mounts=mounts,
    )
    job = client.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=meta,
        spec=client.V1JobSpec(
            template=pod_template([container], labels, volumes, restart_policy="Never"),
            backoff_limit=0,
            ttl_seconds_after_finished=24 * 3600,
        ),
    )
    return [to_dict(config_map), to_dict(job)]


def kaniko_build(
    fn: RuntimeLike,
    context: BuildContext,
    cluster: Cluster,
    push: bool,
    pending_timeout: float,
    poll: float,
    say: Any = None,
) -> str:
    """Submit the build Job, wait for it, return its log; a failed build is a BuildError."""
    from fnrun.runtimes.kubernetes.watch import JobWatch, submit

    docs = kaniko_manifests(fn, context, cluster.namespace, push)
    job = docs[-1]
    name = job["metadata"]["name"]
    submit(cluster, docs)
    if say is not None:
        say(f"building {context.image} as Job {name} on {cluster.describe()}")
    labels = {"fnrun/build": job["metadata"]["labels"]["fnrun/build"]}
    watch = JobWatch(cluster, name, labels, pending_timeout, poll)
    view, failure = watch.follow(
        on_problem=(lambda v: say(f"pod {v.name}: {v.problem}")) if say is not None else None
    )
    log = watch.log(view.name) if view is not None and view.started else ""
    failure = failure or (view.failure() if view is not None else "")
    if failure:
        raise BuildError(f"the image build Job {name} failed: {failure}", log=log)
    return log
