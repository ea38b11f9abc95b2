"""``fnrun.serving.merger.Merge`` (MLRun's ``mlrun.serving.merger.Merge``)."""

from fnrun.graph.merger import Merge

__all__ = ["Merge"]
