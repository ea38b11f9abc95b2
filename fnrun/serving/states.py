"""``fnrun.serving.states`` (MLRun's ``mlrun.serving.states``): the graph's step classes."""

from fnrun.model.graph import (
    MAX_ALLOWED_STEPS,
    BaseStep,
    FlowStep,
    QueueStep,
    RouterStep,
    TaskStep,
)

__all__ = ["MAX_ALLOWED_STEPS", "BaseStep", "FlowStep", "QueueStep", "RouterStep", "TaskStep"]
