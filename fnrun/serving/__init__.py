"""The serving surface: ``from fnrun.serving import GraphServer, Response, Event``.

Model servers and routers: ``V2ModelServer``, ``ModelRouter``, ``VotingEnsemble``,
``ParallelRun``; remote calls: ``RemoteStep``, ``BatchHttpRequests``.
"""

from fnrun.graph.context import GraphContext, Response
from fnrun.graph.event import Event
from fnrun.graph.server import GraphServer
from fnrun.model.graph import FlowStep, QueueStep, RouterStep, TaskStep, register_step_kind
from fnrun.serving.parallel import ParallelRun
from fnrun.serving.remote import BatchHttpRequests, RemoteStep
from fnrun.serving.routers import ModelRouter, VotingEnsemble
from fnrun.serving.v2_serving import V2ModelServer

__all__ = [
    "BatchHttpRequests",
    "Event",
    "FlowStep",
    "GraphContext",
    "GraphServer",
    "ModelRouter",
    "ParallelRun",
    "QueueStep",
    "RemoteStep",
    "Response",
    "RouterStep",
    "TaskStep",
    "V2ModelServer",
    "VotingEnsemble",
    "register_step_kind",
]
