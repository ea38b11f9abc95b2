"""Pod attributes and methods shared by the Kubernetes-based kinds.

>>> from fnrun.runtimes.functions.kinds import KubejobRuntime
>>> fn = KubejobRuntime().with_limits(mem="4Gi", cpu="2").gpus(1)
>>> fn.spec.resources["limits"]
{'memory': '4Gi', 'cpu': '2', 'nvidia.com/gpu': 1}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

from fnrun.errors import InvalidArgumentError
from fnrun.model.pod import PodSpec
from fnrun.model.quantity import validate_quantity
from fnrun.runtimes.functions.base import BaseRuntime

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


class KubeResource(BaseRuntime):
    """A function whose runs or replicas are Kubernetes pods."""

    spec_class: ClassVar[type[PodSpec]] = PodSpec
    is_kubernetes: ClassVar[bool] = True
    spec: PodSpec

    def with_limits(
        self,
        mem: str | None = None,
        cpu: str | None = None,
        gpus: int | None = None,
        gpu_type: str = "nvidia.com/gpu",
        patch: bool = False,
    ) -> Self:
        """Set pod limits; like MLRun, the whole ``limits`` section is replaced unless ``patch``."""
        limits = _quantities("limits", mem, cpu)
        if gpus is not None:
            limits[gpu_type] = _gpu_count(gpus)
        self._set_resources("limits", limits, patch)
        return self

    def with_requests(
        self, mem: str | None = None, cpu: str | None = None, patch: bool = False
    ) -> Self:
        """Set pod requests; the whole ``requests`` section is replaced unless ``patch``."""
        self._set_resources("requests", _quantities("requests", mem, cpu), patch)
        return self

    def gpus(self, gpus: int, gpu_type: str = "nvidia.com/gpu") -> Self:
        """Ask for ``gpus`` GPUs of ``gpu_type`` (added to the existing limits)."""
        self._set_resources("limits", {gpu_type: _gpu_count(gpus)}, patch=True)
        return self

    def _set_resources(self, section: str, values: dict[str, Any], patch: bool) -> None:
        resources = dict(self.spec.resources)
        current = dict(resources.get(section, {})) if patch else {}
        current.update(values)
        resources[section] = current
        self.spec.resources = resources

    def manifests(
        self,
        handler: str | None = None,
        params: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        name: str = "",
        project: str = "",
        labels: dict[str, str] | None = None,
        secrets: dict[str, str] | list[dict[str, Any]] | None = None,
        namespace: str = "",
        db_url: str = "",
    ) -> list[dict[str, Any]]:
        """The Kubernetes objects a run with these arguments submits (a Secret when it has
        secrets, with their values redacted here; its ConfigMap; its Job, MPIJob,
        SparkApplication or DaskCluster), built with the ``kubernetes`` client's models from
        this function's spec. ``db_url``: the run DB the pods report to (default: this
        process's; a SQLite file only works where the pods share it)."""
        from fnrun.execution.request import build_request
        from fnrun.runtimes.kubernetes.manifests import build_manifests

        if not db_url:
            from fnrun.db import get_run_db

            db_url = get_run_db().url
        request = build_request(
            self,
            handler,
            name=name,
            project=project,
            params=params,
            inputs=inputs,
            labels=labels,
            secrets=secrets,
        )
        return build_manifests(self, request, db_url, namespace)

    def apply(self, modifier: Callable[[Self], Any]) -> Self:
        """Apply a modifier (``fn.apply(mount_pvc(...))``): a callable that edits the function."""
        if not callable(modifier):
            raise InvalidArgumentError(f"modifier {modifier!r} is not callable", field="apply")
        modifier(self)
        return self

    def add_volume(self, volume: dict[str, Any], mount: dict[str, Any] | None = None) -> Self:
        """Add (or replace by name) a volume and, optionally, its mount (keyed by mountPath)."""
        name = volume.get("name")
        if not name:
            raise InvalidArgumentError("a volume needs a 'name'", field="spec.volumes")
        self.spec.volumes = [v for v in self.spec.volumes if v.get("name") != name] + [volume]
        if mount is not None:
            path = mount.get("mountPath")
            if not path:
                raise InvalidArgumentError(
                    "a volume mount needs 'mountPath'", field="spec.volume_mounts"
                )
            mounts = [m for m in self.spec.volume_mounts if m.get("mountPath") != path]
            self.spec.volume_mounts = [*mounts, {"name": name, **mount}]
        return self

    def set_image_pull_configuration(
        self, image_pull_policy: str | None = None, image_pull_secret_name: str | None = None
    ) -> Self:
        if image_pull_policy is not None:
            if image_pull_policy not in _PULL_POLICIES:
                raise InvalidArgumentError(
                    f"invalid image pull policy {image_pull_policy!r}",
                    field="image_pull_policy",
                    hint="use one of " + ", ".join(_PULL_POLICIES),
                )
            self.spec.image_pull_policy = image_pull_policy
        if image_pull_secret_name is not None:
            self.spec.image_pull_secret = image_pull_secret_name
        return self

    def with_service_account(self, name: str) -> Self:
        self.spec.service_account = name
        return self

    def with_node_selection(
        self,
        node_name: str | None = None,
        node_selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None,
    ) -> Self:
        if node_name is not None:
            self.spec.node_name = node_name
        if node_selector is not None:
            self.spec.node_selector = dict(node_selector)
        if tolerations is not None:
            self.spec.tolerations = list(tolerations)
        return self

    def with_replicas(
        self, min_replicas: int | None = None, max_replicas: int | None = None
    ) -> Self:
        low = self.spec.min_replicas if min_replicas is None else min_replicas
        high = self.spec.max_replicas if max_replicas is None else max_replicas
        for name, value in (("min_replicas", low), ("max_replicas", high)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise InvalidArgumentError(f"{name} must be a non-negative int", field=name)
        if low is not None and high is not None and low > high:
            raise InvalidArgumentError(
                f"min_replicas {low} > max_replicas {high}", field="min_replicas"
            )
        self.spec.min_replicas, self.spec.max_replicas = low, high
        return self


class BatchKubeResource(KubeResource):
    """A batch function whose runs are pods of its own image (job, dask, mpijob, spark)."""

    def deploy(
        self,
        watch: bool = True,
        with_mlrun: bool | None = None,
        skip_deployed: bool = False,
        builder: str = "auto",
        registry: str = "",
        push: bool = True,
        force_build: bool = False,
    ) -> bool:
        """Build the function's image from ``build_config`` (as MLRun's ``deploy()`` of a
        batch function) and record it in ``spec.image``; True when ready. ``builder``:
        ``auto`` (a local docker engine, podman or buildah, else a Kaniko Job on the
        configured cluster), or one of them by name. The image is tagged by the build
        context's digest unless ``build_config(image=...)`` names it; ``skip_deployed`` keeps
        an image already built (``force_build`` rebuilds). ``registry``: where it is pushed
        (``build_config(registry=...)``, ``FNRUN_REGISTRY``); ``push=False`` keeps it local."""
        from fnrun.runtimes.build import build_image

        if with_mlrun is not None:
            self.spec.build.with_mlrun = with_mlrun
        if skip_deployed and not force_build and self.status.state == "ready" and self.spec.image:
            return True
        build_image(self, builder=builder, registry=registry, push=push, watch=watch)
        return True


def _quantities(section: str, mem: str | None, cpu: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    memory = validate_quantity(mem, f"resources.{section}.memory")
    if memory is not None:
        out["memory"] = memory
    cpus = validate_quantity(cpu, f"resources.{section}.cpu")
    if cpus is not None:
        out["cpu"] = cpus
    return out


def _gpu_count(gpus: Any) -> int:
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise InvalidArgumentError(
            f"invalid gpu count {gpus!r}",
            field="resources.limits.gpu",
            hint="give a whole number >= 0",
        )
    return gpus
