"""The serving surface (MLRun's ``mlrun.serving``): ``from fnrun.serving import GraphServer,
Response, Event``; model servers and routers: ``V2ModelServer``, ``ModelRouter``,
``VotingEnsemble``, ``ParallelRun``; several models in one step: ``ModelRunnerStep`` with
``Model`` and ``ModelRunnerSelector``; remote calls: ``RemoteStep``, ``BatchHttpRequests``;
batch functions as steps: ``RunStep``; shares of traffic, sticky, with shadows:
``TrafficSplit``; joins: ``Merge``; in-process servers:
``create_graph_server``, ``MockEvent``, ``MockTrigger``.
The code lives in ``fnrun.graph``; this module is the one import users need.

May import: mock, stream, graph and the layers below (a public import surface, MLRun's
mlrun.serving).
"""

from fnrun.graph.context import GraphContext, Response
from fnrun.graph.event import Event
from fnrun.graph.merger import Merge
from fnrun.graph.model_routers import ModelRouter, VotingEnsemble
from fnrun.graph.model_runner import (
    Model,
    ModelRunner,
    ModelRunnerError,
    ModelRunnerSelector,
    ModelSelector,
)
from fnrun.graph.parallel import ParallelRun
from fnrun.graph.remote import BatchHttpRequests, RemoteStep
from fnrun.graph.run_step import RunStep
from fnrun.graph.server import GraphServer
from fnrun.graph.traffic import TrafficSplit
from fnrun.graph.v2_serving import V2ModelServer
from fnrun.mock.events import MockEvent, MockTrigger
from fnrun.mock.graph_server import create_graph_server
from fnrun.model.graph import FlowStep, QueueStep, RouterStep, TaskStep, register_step_kind
from fnrun.model.model_runner import ModelRunnerStep

__all__ = [
    "BatchHttpRequests",
    "Event",
    "FlowStep",
    "GraphContext",
    "GraphServer",
    "Merge",
    "MockEvent",
    "MockTrigger",
    "Model",
    "ModelRouter",
    "ModelRunner",
    "ModelRunnerError",
    "ModelRunnerSelector",
    "ModelRunnerStep",
    "ModelSelector",
    "ParallelRun",
    "QueueStep",
    "RemoteStep",
    "Response",
    "RouterStep",
    "RunStep",
    "TaskStep",
    "TrafficSplit",
    "V2ModelServer",
    "VotingEnsemble",
    "create_graph_server",
    "register_step_kind",
]
