"""What a run's pod and Job say, read from their API documents (plain dicts).

A pod that cannot start says why in its container's ``waiting`` state or its
``PodScheduled`` condition. Some reasons never fix themselves (a malformed image name): the
run fails at once. Others may (an image still being pushed, a node being added): the run
shows them and fails when the pod is still not running after the pending timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the container cannot start and Kubernetes will not retry it into starting
FATAL_WAITING = ("InvalidImageName", "ErrImageNeverPull", "CreateContainerError")
# retried by the kubelet: shown, and fatal only after the pending timeout
STUCK_WAITING = ("ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError")
# a pod ended by the cluster, not by its code: OOM-killed, evicted, preempted, its node lost
# or shut down (container, pod and DisruptionTarget-condition reasons)
CLUSTER_ENDED = frozenset(
    (
        "OOMKilled",
        "Evicted",
        "Preempting",
        "Preempted",
        "NodeLost",
        "NodeShutdown",
        "Shutdown",
        "Terminated",
        "UnexpectedAdmissionError",
        "PreemptionByScheduler",
        "EvictionByEvictionAPI",
        "DeletionByTaintManager",
        "TerminationByKubelet",
    )
)
KILLED_EXIT_CODES = (137, 143)  # SIGKILL, SIGTERM: killed from outside the container


@dataclass(frozen=True)
class PodView:
    """One pod as the run sees it."""

    name: str
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    problem: str = ""  # why it does not run ("ImagePullBackOff: Back-off pulling image ...")
    fatal: bool = False  # the problem will not fix itself
    exit_code: int | None = None
    ended_reason: str = ""  # the container's terminated reason (OOMKilled, Error, ...)

    @property
    def started(self) -> bool:
        return self.phase in ("Running", "Succeeded", "Failed")

    @property
    def ended(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    def failure(self) -> str:
        """Why an ended pod failed, in words ('' when it succeeded)."""
        if self.phase != "Failed" and not self.exit_code:
            return ""
        parts = [f"pod {self.name} failed"]
        if self.ended_reason:
            parts.append(f"({self.ended_reason})")
        if self.exit_code is not None:
            parts.append(f"with exit code {self.exit_code}")
        return " ".join(parts)

    def ended_by_cluster(self) -> bool:
        """Whether the cluster ended the pod (evicted, OOM-killed, preempted, killed from
        outside), not the code in it."""
        return self.ended_reason in CLUSTER_ENDED or self.exit_code in KILLED_EXIT_CODES


def pod_view(pod: dict[str, Any]) -> PodView:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    name, phase = str(meta.get("name", "")), str(status.get("phase") or "Pending")
    by_cluster = _cluster_reason(status)
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if terminated:
            reason = str(terminated.get("reason") or "")
            return PodView(
                name,
                phase,
                exit_code=terminated.get("exitCode"),
                ended_reason=reason if reason in CLUSTER_ENDED else by_cluster or reason,
            )
        if waiting and waiting.get("reason") in (*FATAL_WAITING, *STUCK_WAITING):
            reason = waiting["reason"]
            text = f"{reason}: {waiting.get('message') or ''}".rstrip(": ")
            return PodView(name, phase, text, fatal=reason in FATAL_WAITING)
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            text = f"{cond.get('reason') or 'Unschedulable'}: {cond.get('message') or ''}"
            return PodView(name, phase, text.rstrip(": "))
    if by_cluster and phase == "Failed":  # evicted before any container status
        return PodView(name, phase, ended_reason=by_cluster)
    return PodView(name, phase)


def _cluster_reason(status: dict[str, Any]) -> str:
    """The pod-level reason the cluster gave for ending it (``Evicted``), or its true
    ``DisruptionTarget`` condition's (``PreemptionByScheduler``); '' if none."""
    reason = str(status.get("reason") or "")
    if reason in CLUSTER_ENDED:
        return reason
    for cond in status.get("conditions") or []:
        if cond.get("type") == "DisruptionTarget" and cond.get("status") == "True":
            return str(cond.get("reason") or "DisruptionTarget")
    return ""


def job_outcome(job: dict[str, Any]) -> str:
    """``complete``, ``failed`` (with ``: reason``) or '' while the Job runs."""
    return condition_outcome(job, "Complete")


def condition_outcome(doc: dict[str, Any], done: str) -> str:
    """How a workload whose status has conditions ended: a true ``done`` condition
    (``Complete`` for a Job, ``Succeeded`` for an MPIJob) is ``complete``, a true ``Failed``
    one ``failed: why``; '' while it runs."""
    for cond in (doc.get("status") or {}).get("conditions") or []:
        if cond.get("status") != "True":
            continue
        if cond.get("type") == done:
            return "complete"
        if cond.get("type") == "Failed":
            why = cond.get("message") or cond.get("reason") or ""
            return f"failed: {why}" if why else "failed"
    return ""
