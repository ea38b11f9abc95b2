"""``fnrun.serving.v2_serving`` (MLRun's ``mlrun.serving.v2_serving``): the V2 model server."""

from fnrun.graph.v2_serving import V2ModelServer

__all__ = ["V2ModelServer"]
