"""The serving surface: ``from fnrun.serving import GraphServer, Response, Event``.

Model servers, routers and ensembles (``V2ModelServer``, ``ModelRouter``, ``VotingEnsemble``)
join this module as they land.
"""

from fnrun.graph.context import GraphContext, Response
from fnrun.graph.event import Event
from fnrun.graph.server import GraphServer
from fnrun.model.graph import FlowStep, QueueStep, RouterStep, TaskStep, register_step_kind
from fnrun.serving.routers import ModelRouter, VotingEnsemble
from fnrun.serving.v2_serving import V2ModelServer

__all__ = [
    "Event",
    "FlowStep",
    "GraphContext",
    "GraphServer",
    "ModelRouter",
    "QueueStep",
    "Response",
    "RouterStep",
    "TaskStep",
    "V2ModelServer",
    "VotingEnsemble",
    "register_step_kind",
]
