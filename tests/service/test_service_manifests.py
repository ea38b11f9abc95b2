"""``fnrun service --manifests``: the service's Kubernetes objects, valid against the official
1.37 schemas (kubernetes-validate, strict), never carrying the token or the DB URL."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from fnrun.cli import app

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate")
pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
K8S = "1.37.0"


def _objects(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[dict[str, Any]]:
    monkeypatch.setenv("FNRUN_TOKEN", "the-real-token-must-not-appear")
    monkeypatch.setenv("FNRUN_DBPATH", "postgresql://u:pw-must-not-appear@db:5432/fnrun")
    result = CliRunner().invoke(app, ["service", "--manifests", *args])
    assert result.exit_code == 0, result.output
    assert "must-not-appear" not in result.output
    assert "kubectl -n ml create secret generic fnrun-service" in result.output
    return list(yaml.safe_load_all(result.output))


def test_the_service_manifests_are_valid_and_carry_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = _objects(
        monkeypatch, "--namespace", "ml", "--image", "reg/fnrun:1", "--replicas", "2"
    )
    assert [o["kind"] for o in objects] == ["Secret", "Deployment", "Service"]
    for doc in objects:
        kubernetes_validate.validate(doc, K8S, strict=True)
        assert doc["metadata"]["namespace"] == "ml"
    secret, deployment, service = objects
    assert set(secret["stringData"]) == {"token", "db-url"}
    assert all(v.startswith("<set me") for v in secret["stringData"].values())
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    [container] = spec["template"]["spec"]["containers"]
    assert container["image"] == "reg/fnrun:1"
    assert container["command"][:2] == ["fnrun", "service"] and "0.0.0.0" in container["command"]
    env = {e["name"]: e for e in container["env"]}
    for name, key in (("FNRUN_TOKEN", "token"), ("FNRUN_DBPATH", "db-url")):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "fnrun-service", "key": key}
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/healthz"
    assert container["securityContext"]["runAsNonRoot"] is True
    selector = spec["selector"]["matchLabels"]
    assert service["spec"]["selector"] == selector == spec["template"]["metadata"]["labels"]
    assert service["spec"]["ports"][0]["port"] == 8080


def test_the_service_refuses_the_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    [secret, *_] = _objects(monkeypatch, "--namespace", "ml")
    placeholder = secret["stringData"]["token"]
    monkeypatch.delenv("FNRUN_DBPATH")
    result = CliRunner().invoke(app, ["service", "--token", placeholder])
    assert result.exit_code != 0
    assert "the token is still the manifests' placeholder" in str(result.exception)
