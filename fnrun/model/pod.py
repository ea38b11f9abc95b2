"""Specs of the Kubernetes-based kinds: the shared pod spec and one spec per kind.

Kubernetes sub-objects (volumes, tolerations, affinity, ...) stay plain dicts in the
Kubernetes API's own camelCase form; they are validated against the official schemas where
they are turned into manifests, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fnrun.model.function import FunctionSpec
from fnrun.model.graph import graph_from_dict

K8sDict = dict[str, Any]


@dataclass
class PodSpec(FunctionSpec):
    """Pod attributes shared by job, dask, mpijob, spark, nuclio and serving."""

    _schema_name = "pod function spec"
    volumes: list[K8sDict] = field(default_factory=list)
    volume_mounts: list[K8sDict] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    replicas: int | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    image_pull_policy: str = ""
    service_account: str = ""
    image_pull_secret: str = ""
    node_name: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    affinity: K8sDict | None = None
    tolerations: list[K8sDict] | None = None
    priority_class_name: str = ""
    preemption_mode: str = ""
    security_context: K8sDict | None = None
    state_thresholds: dict[str, str] = field(default_factory=dict)


@dataclass
class DaskSpec(PodSpec):
    _schema_name = "dask function spec"
    scheduler_address: str = ""  # an existing scheduler (tcp://host:8786); none: a LocalCluster
    extra_pip: str = ""
    remote: bool | None = None
    service_type: str = ""
    nthreads: int | None = None
    kfp_image: str = ""
    node_port: int | None = None
    scheduler_timeout: str = ""
    scheduler_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    worker_resources: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class MPIJobSpec(PodSpec):
    _schema_name = "mpijob function spec"
    mpi_args: list[str] = field(default_factory=list)
    clean_pod_policy: str = ""


@dataclass
class SparkSpec(PodSpec):
    _schema_name = "spark function spec"
    master: str = ""  # fnrun: a Spark master URL; none: local[N] in the run's process
    driver_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    executor_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_type: str = ""
    python_version: str = ""
    spark_version: str = ""
    restart_policy: dict[str, Any] = field(default_factory=dict)
    deps: dict[str, Any] = field(default_factory=dict)
    main_class: str = ""
    spark_conf: dict[str, Any] = field(default_factory=dict)
    hadoop_conf: dict[str, Any] = field(default_factory=dict)
    use_default_image: bool = False
    monitoring: dict[str, Any] = field(default_factory=dict)
    dynamic_allocation: dict[str, Any] = field(default_factory=dict)
    driver_node_selector: dict[str, str] = field(default_factory=dict)
    executor_node_selector: dict[str, str] = field(default_factory=dict)
    driver_tolerations: list[K8sDict] | None = None
    executor_tolerations: list[K8sDict] | None = None
    driver_affinity: K8sDict | None = None
    executor_affinity: K8sDict | None = None
    driver_preemption_mode: str = ""
    executor_preemption_mode: str = ""
    driver_volume_mounts: list[K8sDict] = field(default_factory=list)
    executor_volume_mounts: list[K8sDict] = field(default_factory=list)
    driver_java_options: str = ""
    executor_java_options: str = ""
    driver_cores: int | None = None
    executor_cores: int | None = None


@dataclass
class RemoteSparkSpec(SparkSpec):
    _schema_name = "remote-spark function spec"
    provider: str = ""


@dataclass
class NuclioSpec(PodSpec):
    _schema_name = "nuclio function spec"
    config: dict[str, Any] = field(default_factory=dict)
    base_spec: dict[str, Any] = field(default_factory=dict)
    function_kind: str = ""
    source: str = ""
    function_handler: str = ""
    nuclio_runtime: str = ""
    no_cache: bool | None = None
    readiness_timeout: int | None = None
    readiness_timeout_before_failure: bool | None = None
    service_type: str = ""
    add_templated_ingress_host_mode: str = ""
    disable_default_http_trigger: bool | None = None
    base_image_pull: bool | None = None


@dataclass
class ServingSpec(NuclioSpec):
    _schema_name = "serving function spec"
    graph: Any = None  # a FlowStep or RouterStep (fnrun.model.graph); dicts are converted
    parameters: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    default_content_type: str = ""
    load_mode: str = ""
    error_stream: str = ""
    track_models: bool | None = None
    secret_sources: list[dict[str, Any]] = field(default_factory=list)
    default_class: str = ""
    function_refs: list[dict[str, Any]] = field(default_factory=list)
    graph_initializer: str = ""
    tracking_policy: dict[str, Any] | None = None
    timeout: float | None = None  # seconds a request may take through the graph (504 past it)
    max_in_flight: int | None = None  # requests served at once (503 beyond)

    def __post_init__(self) -> None:

        self.graph = graph_from_dict(self.graph)
