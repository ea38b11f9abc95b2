"""The built-in function kinds, one class each, registered by kind.

Placement backends (local process, Kubernetes, Dask, Spark, MPI, Nuclio) attach to these
classes in their own modules; this module holds only what each kind *is*.
"""

from __future__ import annotations

from typing import ClassVar, Self

from fnrun.errors import InvalidArgumentError
from fnrun.model.function import FunctionSpec
from fnrun.model.pod import (
    DaskSpec,
    MPIJobSpec,
    NuclioSpec,
    PodSpec,
    RemoteSparkSpec,
    ServingSpec,
    SparkSpec,
)
from fnrun.runtimes.functions.base import BaseRuntime
from fnrun.runtimes.functions.graph_job import GraphJobMixin
from fnrun.runtimes.functions.registry import register_runtime
from fnrun.runtimes.functions.resources import BatchKubeResource, KubeResource
from fnrun.runtimes.functions.serving import DeployMixin, ServingMixin
from fnrun.runtimes.local.spark_session import SparkSessionMixin, check_master
from fnrun.runtimes.placements.dask_cluster import DaskClientMixin


@register_runtime
class HandlerRuntime(BaseRuntime):
    """A Python callable run in this process."""

    kind: ClassVar[str] = "handler"
    spec_class: ClassVar[type[FunctionSpec]] = FunctionSpec
    runs_in_process: ClassVar[bool] = True
    placement: ClassVar[str] = "here"


@register_runtime
class LocalRuntime(BaseRuntime):
    """Code or a command run on this machine (in a subprocess unless asked otherwise)."""

    kind: ClassVar[str] = "local"
    spec_class: ClassVar[type[FunctionSpec]] = FunctionSpec
    runs_on_this_machine: ClassVar[bool] = True


@register_runtime
class KubejobRuntime(BatchKubeResource):
    """A batch run as a Kubernetes Job on the configured cluster; in a local child process
    when none is configured or with ``local=True``."""

    kind: ClassVar[str] = "job"
    spec_class: ClassVar[type[PodSpec]] = PodSpec
    workload: ClassVar[str] = "job"
    placement: ClassVar[str] = "kubernetes"
    parallel_placement: ClassVar[str] = "kubernetes"  # each iteration its own Job
    local_placement: ClassVar[str] = "process"
    runs_on_this_machine: ClassVar[bool] = True  # without a cluster
    submits_runs: ClassVar[bool] = True


@register_runtime
class DaskRuntime(DaskClientMixin, BatchKubeResource):
    """A batch run on a Dask cluster: the handler runs here as the client
    (``context.dask_client``), its tasks on ``fn.client``'s cluster."""

    kind: ClassVar[str] = "dask"
    spec_class: ClassVar[type[PodSpec]] = DaskSpec
    spec: DaskSpec
    placement: ClassVar[str] = "dask"
    workload: ClassVar[str] = "dask"
    parallel_placement: ClassVar[str] = "dask-workers"
    runs_on_this_machine: ClassVar[bool] = True  # the client side; the cluster may be anywhere


@register_runtime
class MPIJobRuntime(BatchKubeResource):
    """A batch run as MPI ranks: ``mpirun -np <replicas>`` here (rank 0 logs the run), an
    MPIJob on Kubernetes."""

    kind: ClassVar[str] = "mpijob"
    spec_class: ClassVar[type[PodSpec]] = MPIJobSpec
    spec: MPIJobSpec
    placement: ClassVar[str] = "kubernetes"  # an MPIJob; mpirun here without a cluster
    workload: ClassVar[str] = "mpijob"
    parallel_placement: ClassVar[str] = "kubernetes"  # one MPIJob / mpirun per iteration
    local_placement: ClassVar[str] = "mpi"
    runs_on_this_machine: ClassVar[bool] = True
    submits_runs: ClassVar[bool] = True


@register_runtime
class SparkRuntime(SparkSessionMixin, BatchKubeResource):
    """A batch run as a Spark application: the handler is the driver, here, with
    ``context.spark_session`` (``local[N]`` or ``spec.master``; a SparkApplication on
    Kubernetes)."""

    kind: ClassVar[str] = "spark"
    spec_class: ClassVar[type[PodSpec]] = SparkSpec
    spec: SparkSpec
    placement: ClassVar[str] = "kubernetes"  # a SparkApplication; the driver here without one
    workload: ClassVar[str] = "spark"
    # on a cluster each iteration its own application; here they share the session, in threads
    parallel_placement: ClassVar[str] = "kubernetes"
    local_placement: ClassVar[str] = "spark"
    runs_on_this_machine: ClassVar[bool] = True  # the driver; executors may be anywhere
    submits_runs: ClassVar[bool] = True  # to the cluster; a driver here finishes first

    def wants_cluster(self) -> bool:
        """A function naming its Spark master (``with_spark_master``) is driven from here."""
        return not self.spec.master


@register_runtime
class RemoteSparkRuntime(SparkRuntime):
    """A batch run whose code drives an existing Spark cluster (``with_spark_service``)."""

    kind: ClassVar[str] = "remote-spark"
    spec_class: ClassVar[type[PodSpec]] = RemoteSparkSpec
    spec: RemoteSparkSpec
    workload: ClassVar[str] = "job"  # a pod whose driver drives the remote cluster

    def wants_cluster(self) -> bool:
        """On a cluster, a Job pod drives the remote master (as MLRun's remote-spark)."""
        return True

    def with_spark_service(
        self, spark_service: str, provider: str = "", with_v3io_mount: bool = False
    ) -> Self:
        """Drive the Spark cluster at ``spark_service``: a master URL (``spark://host:7077``).
        MLRun's Iguazio service names need that platform; give its master URL instead."""
        if with_v3io_mount:
            raise InvalidArgumentError(
                "v3io mounts need the Iguazio platform",
                field="with_v3io_mount",
                hint="mount the data with fn.add_volume(...) or read it by URL",
            )
        self.spec.master = check_master(spark_service)
        self.spec.provider = provider
        return self


@register_runtime
class NuclioRuntime(DeployMixin, KubeResource):
    """A real-time function (a Nuclio function) behind HTTP or stream triggers."""

    kind: ClassVar[str] = "nuclio"
    aliases: ClassVar[tuple[str, ...]] = ("remote",)
    spec_class: ClassVar[type[PodSpec]] = NuclioSpec
    is_batch: ClassVar[bool] = False
    is_deployable: ClassVar[bool] = True
    spec: NuclioSpec


@register_runtime
class ServingRuntime(GraphJobMixin, ServingMixin, NuclioRuntime):
    """A real-time serving graph (a DAG of steps and models) over one or more functions."""

    kind: ClassVar[str] = "serving"
    aliases: ClassVar[tuple[str, ...]] = ()
    spec_class: ClassVar[type[PodSpec]] = ServingSpec
    spec: ServingSpec
