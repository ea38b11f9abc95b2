"""Kubernetes manifests for the fnrun service (``fnrun service --manifests``).

Three objects, built with the Kubernetes client's models: a Secret ``<name>`` with the keys
``token`` and ``db-url`` (placeholders: the real values are set with ``kubectl``, never
written into YAML by fnrun), a Deployment running ``fnrun service`` on all interfaces with the
token and the PostgreSQL URL from that Secret, a readiness and liveness probe on
``/api/v1/healthz`` and a non-root, read-only container, and a ClusterIP Service. Several
replicas are safe on one PostgreSQL DB: the scheduler claims each due time with a
compare-and-set.
"""

from __future__ import annotations

from typing import Any

from fnrun.runtimes.kubernetes.manifests.pod import (
    env_from_secret,
    http_probe,
    k8s,
    pod_template,
    to_dict,
)
from fnrun.version import __version__

PLACEHOLDER = "<set me: kubectl create secret generic ... (see the comment above)>"
PORT = 8080


def service_manifests(
    name: str = "fnrun-service",
    namespace: str = "default",
    image: str = "",
    replicas: int = 1,
    artifact_path: str = "/data/artifacts",
) -> list[dict[str, Any]]:

    client = k8s()
    image = image or f"fnrun/fnrun:{__version__}"
    labels = {"app.kubernetes.io/name": "fnrun-service", "app.kubernetes.io/instance": name}
    meta = client.V1ObjectMeta(name=name, namespace=namespace, labels=labels)
    secret = client.V1Secret(
        api_version="v1",
        kind="Secret",
        metadata=meta,
        type="Opaque",
        string_data={"token": PLACEHOLDER, "db-url": PLACEHOLDER},
    )

    probe = http_probe("/api/v1/healthz", "http", 10, timeout_seconds=3)
    container = client.V1Container(
        name="service",
        image=image,
        command=["fnrun", "service", "--host", "0.0.0.0", "--port", str(PORT)],
        env=[
            env_from_secret("FNRUN_TOKEN", name, "token"),
            env_from_secret("FNRUN_DBPATH", name, "db-url"),
            client.V1EnvVar(name="FNRUN_HOME", value="/data"),
            client.V1EnvVar(name="FNRUN_ARTIFACT_PATH", value=artifact_path),
            client.V1EnvVar(name="FNRUN_PROGRESS", value="0"),
        ],
        ports=[client.V1ContainerPort(name="http", container_port=PORT, protocol="TCP")],
        readiness_probe=probe,
        liveness_probe=probe,
        resources=client.V1ResourceRequirements(
            requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "2Gi"}
        ),
        security_context=client.V1SecurityContext(
            run_as_non_root=True,
            run_as_user=1000,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=client.V1Capabilities(drop=["ALL"]),
        ),
        volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")],
    )
    data = client.V1Volume(name="data", empty_dir=client.V1EmptyDirVolumeSource())
    pod = pod_template([container], labels, [data], automount_service_account_token=False)
    deployment = client.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=meta,
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=pod,
        ),
    )
    service = client.V1Service(
        api_version="v1",
        kind="Service",
        metadata=meta,
        spec=client.V1ServiceSpec(
            selector=labels,
            ports=[client.V1ServicePort(name="http", port=PORT, target_port="http")],
        ),
    )
    return [to_dict(secret), to_dict(deployment), to_dict(service)]


def manifests_yaml(objects: list[dict[str, Any]], name: str, namespace: str) -> str:
    """The objects as one YAML stream, with how to set the Secret's real values."""
    import yaml

    head = (
        "# fnrun service. Set the Secret's values first (they are never written here):\n"
        f"#   kubectl -n {namespace} create secret generic {name} \\\n"
        "#     --from-literal=token=$(openssl rand -hex 32) \\\n"
        "#     --from-literal=db-url=postgresql://USER:PASSWORD@HOST:5432/DB\n"
        "# then apply the Deployment and the Service (skip the Secret below, or edit it).\n"
        f"# Clients: FNRUN_DBPATH=http://{name}.{namespace}.svc:{PORT} and FNRUN_TOKEN.\n"
    )
    return head + yaml.safe_dump_all(objects, sort_keys=False)
