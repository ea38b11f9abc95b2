"""``mlrun.serving`` (and ``.v2_serving``, ``.routers``, ``.server``, ``.states``): fnrun's
serving graph classes."""

from fnrun.serving import (
    BatchHttpRequests,
    Event,
    GraphContext,
    GraphServer,
    Merge,
    MockEvent,
    ModelRouter,
    ParallelRun,
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

__all__ = [
    "BaseModelRouter",
    "BatchHttpRequests",
    "Event",
    "GraphContext",
    "GraphServer",
    "Merge",
    "MockEvent",
    "ModelRouter",
    "ParallelRun",
    "RemoteStep",
    "Response",
    "RouterStep",
    "TaskStep",
    "V2ModelServer",
    "VotingEnsemble",
    "create_graph_server",
]
