"""Which cluster the environment names, and what a pod's and Job's status say."""

from __future__ import annotations

from pathlib import Path

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.kubernetes import cluster as clusters
from fnrun.runtimes.kubernetes.cluster import find_cluster
from fnrun.runtimes.kubernetes.pod_status import job_outcome, pod_view


def test_off_auto_path_and_in_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_cluster({"FNRUN_K8S": "off"}).why == "FNRUN_K8S=off"
    home = {"HOME": str(tmp_path)}
    assert not find_cluster(home).found and "no kubeconfig" in find_cluster(home).why
    config = tmp_path / ".kube" / "config"
    config.parent.mkdir()
    config.write_text("apiVersion: v1\n")
    assert find_cluster(home).source == str(config)  # auto: ~/.kube/config
    other = tmp_path / "other"
    other.write_text("apiVersion: v1\n")
    env = {**home, "KUBECONFIG": f"{tmp_path / 'missing'}:{other}", "FNRUN_K8S_NAMESPACE": "ml"}
    chosen = find_cluster(env)
    assert chosen.source == str(other) and chosen.namespace == "ml"  # the first that exists
    assert find_cluster({"FNRUN_K8S": str(other), "FNRUN_K8S_CONTEXT": "c"}).context == "c"
    with pytest.raises(InvalidArgumentError, match="not a kubeconfig file"):
        find_cluster({"FNRUN_K8S": str(tmp_path / "nope")})
    token = tmp_path / "sa" / "token"
    token.parent.mkdir()
    token.write_text("t")
    monkeypatch.setattr(clusters, "SA_DIR", token.parent)
    inside = find_cluster({**home, "KUBERNETES_SERVICE_HOST": "10.0.0.1"})
    assert inside.source == "in-cluster"  # a pod's own cluster comes before any kubeconfig


def test_a_missing_context_names_the_contexts(tmp_path: Path) -> None:
    pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: a, context: {cluster: k, user: u}}]\n"
    )
    with pytest.raises(InvalidArgumentError, match="no context 'b'") as err:
        clusters.connect(clusters.ClusterChoice(str(config), "b"))
    assert err.value.hint == "contexts: a"
    chosen = clusters.connect(clusters.ClusterChoice(str(config)))
    assert chosen.namespace == "default" and chosen.context == "a"


def _pod(**status: object) -> dict[str, object]:
    return {"metadata": {"name": "p"}, "status": status}


def test_pod_views() -> None:
    assert pod_view(_pod()).phase == "Pending" and not pod_view(_pod()).problem
    bad = {"waiting": {"reason": "InvalidImageName", "message": "bad ref"}}
    view = pod_view(_pod(phase="Pending", containerStatuses=[{"state": bad}]))
    assert view.fatal and view.problem == "InvalidImageName: bad ref"
    pulling = {"waiting": {"reason": "ImagePullBackOff", "message": "back-off"}}
    view = pod_view(_pod(phase="Pending", containerStatuses=[{"state": pulling}]))
    assert not view.fatal and view.problem.startswith("ImagePullBackOff")
    creating = {"waiting": {"reason": "ContainerCreating"}}
    assert not pod_view(_pod(containerStatuses=[{"state": creating}])).problem  # normal
    unschedulable = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
    assert pod_view(_pod(conditions=[unschedulable])).problem == "Unschedulable"
    killed = {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
    view = pod_view(_pod(phase="Failed", containerStatuses=[{"state": killed}]))
    assert view.ended and view.failure() == "pod p failed (OOMKilled) with exit code 137"
    done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    assert pod_view(_pod(phase="Succeeded", containerStatuses=[{"state": done}])).failure() == ""


def test_whether_the_cluster_ended_a_pod() -> None:
    def ended(status: dict[str, object], state: dict[str, object] | None = None) -> object:
        statuses = [{"state": {"terminated": state}}] if state else []
        return pod_view(_pod(phase="Failed", containerStatuses=statuses, **status))

    oom = ended({}, {"exitCode": 137, "reason": "OOMKilled"})
    assert oom.ended_by_cluster()  # type: ignore[attr-defined]
    evicted = ended({"reason": "Evicted", "message": "low on memory"})  # no container status
    assert evicted.ended_by_cluster() and "(Evicted)" in evicted.failure()  # type: ignore[attr-defined]
    preempted = ended(
        {"conditions": [{"type": "DisruptionTarget", "status": "True",
                         "reason": "PreemptionByScheduler"}]},
        {"exitCode": 143, "reason": "Error"},
    )  # fmt: skip
    assert preempted.ended_reason == "PreemptionByScheduler"  # type: ignore[attr-defined]
    bug = ended({}, {"exitCode": 1, "reason": "Error"})
    assert not bug.ended_by_cluster()  # type: ignore[attr-defined]
    stale = {"conditions": [{"type": "DisruptionTarget", "status": "False", "reason": "x"}]}
    assert not ended(stale, {"exitCode": 2, "reason": "Error"}).ended_by_cluster()  # type: ignore[attr-defined]


def test_job_outcomes() -> None:
    assert job_outcome({"status": {}}) == ""
    complete = {"type": "Complete", "status": "True"}
    assert job_outcome({"status": {"conditions": [complete]}}) == "complete"
    failed = {"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}
    assert job_outcome({"status": {"conditions": [failed]}}) == "failed: DeadlineExceeded"
    pending = {"type": "Failed", "status": "False"}
    assert job_outcome({"status": {"conditions": [pending]}}) == ""
