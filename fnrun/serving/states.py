"""``fnrun.serving.states`` (MLRun's ``mlrun.serving.states``): the graph's step classes."""

from fnrun.model.graph import BaseStep, FlowStep, QueueStep, RouterStep, TaskStep

__all__ = ["BaseStep", "FlowStep", "QueueStep", "RouterStep", "TaskStep"]
