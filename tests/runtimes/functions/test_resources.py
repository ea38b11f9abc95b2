from __future__ import annotations

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.functions.resources import KubeResource

POD_KINDS = ["job", "dask", "mpijob", "spark", "remote-spark", "nuclio", "serving"]


def _fn(kind: str = "job") -> KubeResource:
    fn = fnrun.new_function("f", kind=kind)
    assert isinstance(fn, KubeResource)
    return fn


@pytest.mark.parametrize("kind", POD_KINDS)
def test_pod_attributes_round_trip_on_every_kubernetes_kind(kind: str) -> None:
    fn = _fn(kind)
    fn.with_limits(mem="4Gi", cpu="2", gpus=1).with_requests(mem="1Gi", cpu="500m")
    fn.set_image_pull_configuration("IfNotPresent", "regcred").with_service_account("sa")
    fn.with_replicas(1, 4)
    fn.spec.replicas = 2
    fn.add_volume(
        {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}, {"mountPath": "/data"}
    )
    fn.set_env("A", 1).set_env_from_secret("TOKEN", secret="creds", secret_key="token")
    doc = fn.to_dict()["spec"]
    assert doc["resources"] == {
        "limits": {"memory": "4Gi", "cpu": "2", "nvidia.com/gpu": 1},
        "requests": {"memory": "1Gi", "cpu": "500m"},
    }
    assert doc["volume_mounts"] == [{"name": "data", "mountPath": "/data"}]
    assert doc["image_pull_policy"] == "IfNotPresent" and doc["image_pull_secret"] == "regcred"
    assert (doc["min_replicas"], doc["max_replicas"], doc["replicas"]) == (1, 4, 2)
    assert doc["env"] == [
        {"name": "A", "value": "1"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
    ]
    assert fnrun.new_function(runtime=fn.to_dict()) == fn


def test_with_limits_replaces_section_unless_patch() -> None:
    fn = _fn().gpus(2)
    fn.with_limits(mem="1G")
    assert fn.spec.resources["limits"] == {"memory": "1G"}
    fn.gpus(1).with_limits(cpu="1", patch=True)
    assert fn.spec.resources["limits"] == {"memory": "1G", "nvidia.com/gpu": 1, "cpu": "1"}


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda f: f.with_limits(mem="4Gx"), "invalid quantity '4Gx'"),
        (lambda f: f.with_requests(cpu="two"), "invalid quantity 'two'"),
        (lambda f: f.gpus(-1), "invalid gpu count"),
        (lambda f: f.gpus(1.5), "invalid gpu count"),
        (lambda f: f.with_replicas(3, 1), "min_replicas 3 > max_replicas 1"),
        (lambda f: f.set_image_pull_configuration("Sometimes"), "invalid image pull policy"),
        (lambda f: f.apply("not callable"), "not callable"),
        (lambda f: f.add_volume({"x": 1}), "needs a 'name'"),
    ],
)
def test_bad_pod_values_are_clear_errors(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgumentError, match=match):
        call(_fn())


def test_quantity_error_names_field() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        _fn().with_limits(mem="4Gx")
    assert err.value.field == "resources.limits.memory"


def test_apply_modifier() -> None:
    def mount_data(fn: KubeResource) -> None:
        fn.add_volume({"name": "d", "emptyDir": {}}, {"mountPath": "/d"})

    fn = _fn().apply(mount_data)
    assert fn.spec.volumes == [{"name": "d", "emptyDir": {}}]


def test_node_selection() -> None:
    fn = _fn().with_node_selection("n1", {"gpu": "true"}, [{"key": "k", "operator": "Exists"}])
    assert fn.to_dict()["spec"]["node_selector"] == {"gpu": "true"}
    assert fn.spec.tolerations == [{"key": "k", "operator": "Exists"}]
