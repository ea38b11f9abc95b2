"""``fnrun.serving.routers`` (MLRun's ``mlrun.serving.routers``): model routers and
ensembles."""

from fnrun.graph.model_routers import ModelRouter, VotingEnsemble
from fnrun.graph.parallel import ParallelRun

BaseModelRouter = ModelRouter  # MLRun's name of the base router

__all__ = ["BaseModelRouter", "ModelRouter", "ParallelRun", "VotingEnsemble"]
