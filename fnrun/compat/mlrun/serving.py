"""``mlrun.serving`` (and ``.v2_serving``, ``.routers``, ``.server``, ``.states``, ``.remote``,
``.merger``): fnrun's serving graph classes."""

from fnrun.serving import (
    BatchHttpRequests,
    Event,
    FlowStep,
    GraphContext,
    GraphServer,
    Merge,
    MockEvent,
    ModelRouter,
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

__all__ = [
    "BaseModelRouter",
    "BatchHttpRequests",
    "Event",
    "FlowStep",
    "GraphContext",
    "GraphServer",
    "Merge",
    "MockEvent",
    "ModelRouter",
    "ParallelRun",
    "QueueStep",
    "RemoteStep",
    "Response",
    "RouterStep",
    "TaskStep",
    "V2ModelServer",
    "VotingEnsemble",
    "create_graph_server",
]
