"""``fnrun.serving.states`` (MLRun's ``mlrun.serving.states``): the graph's step classes."""

from fnrun.graph.model_runner import Model, ModelRunner, ModelRunnerSelector, ModelSelector
from fnrun.model.graph import (
    MAX_ALLOWED_STEPS,
    BaseStep,
    FlowStep,
    GraphError,
    QueueStep,
    RouterStep,
    TaskStep,
)
from fnrun.model.model_runner import ModelRunnerStep

__all__ = [
    "MAX_ALLOWED_STEPS",
    "BaseStep",
    "FlowStep",
    "GraphError",
    "Model",
    "ModelRunner",
    "ModelRunnerSelector",
    "ModelRunnerStep",
    "ModelSelector",
    "QueueStep",
    "RouterStep",
    "TaskStep",
]
