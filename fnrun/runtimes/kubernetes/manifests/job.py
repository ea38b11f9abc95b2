"""``job``: a ``batch/v1`` Job running the fnrun entry once (``backoffLimit: 0``: a failed run
is not silently retried; finished Jobs are removed after a day)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.runtimes.kubernetes.manifests import register_workload
from fnrun.runtimes.kubernetes.manifests.pod import k8s, run_pod, to_dict

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.kubernetes.manifests.pod import RunObjects

TTL_SECONDS = 24 * 3600


def job(fn: RuntimeLike, objects: RunObjects) -> list[dict[str, Any]]:
    client = k8s()
    return [
        to_dict(
            client.V1Job(
                api_version="batch/v1",
                kind="Job",
                metadata=_meta(objects),
                spec=client.V1JobSpec(
                    template=run_pod(fn, objects),
                    backoff_limit=0,
                    ttl_seconds_after_finished=TTL_SECONDS,
                ),
            )
        )
    ]


def _meta(objects: RunObjects) -> Any:
    return k8s().V1ObjectMeta(
        name=objects.name, namespace=objects.namespace or None, labels=objects.labels
    )


register_workload("job", job)
