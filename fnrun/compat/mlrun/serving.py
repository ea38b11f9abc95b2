"""``mlrun.serving`` (and ``.v2_serving``, ``.routers``, ``.server``, ``.states``, ``.remote``,
``.merger``, ``.utils``): fnrun's serving graph classes."""

import sys

from fnrun.graph.parallel import ParallelRunnerModes
from fnrun.graph.remote import MLRUN_EVENT_ID as event_id_key
from fnrun.graph.remote import MLRUN_EVENT_PATH as event_path_key
from fnrun.runtimes.functions.graph_job import execute_graph  # noqa: F401 - MLRun: mlrun.serving.server.execute_graph
from fnrun.serving import (
    BatchHttpRequests,
    Event,
    FlowStep,
    GraphContext,
    GraphServer,
    Merge,
    MockEvent,
    MockTrigger,
    Model,
    ModelRouter,
    ModelRunner,
    ModelRunnerSelector,
    ModelRunnerStep,
    ModelSelector,
    ParallelRun,
    QueueStep,
    RemoteStep,
    Response,
    RouterStep,
    TaskStep,
    V2ModelServer,
    VotingEnsemble,
    create_graph_server,
)
from fnrun.serving import (
    ModelRouter as BaseModelRouter,
)
from fnrun.serving.states import MAX_ALLOWED_STEPS, GraphError

# ``mlrun.serving.routers.X`` read as attributes after ``import mlrun.serving``
merger = remote = routers = server = states = utils = v2_serving = sys.modules[__name__]

__all__ = [
    "MAX_ALLOWED_STEPS",
    "BaseModelRouter",
    "BatchHttpRequests",
    "Event",
    "FlowStep",
    "GraphContext",
    "GraphError",
    "GraphServer",
    "Merge",
    "MockEvent",
    "MockTrigger",
    "Model",
    "ModelRouter",
    "ModelRunner",
    "ModelRunnerSelector",
    "ModelRunnerStep",
    "ModelSelector",
    "ParallelRun",
    "ParallelRunnerModes",
    "QueueStep",
    "RemoteStep",
    "Response",
    "RouterStep",
    "TaskStep",
    "V2ModelServer",
    "VotingEnsemble",
    "create_graph_server",
    "event_id_key",
    "event_path_key",
]
