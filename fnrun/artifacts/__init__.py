"""Artifact kinds (``from fnrun.artifacts import ChartArtifact, ...``) and the logging path."""

from fnrun.artifacts.base import Artifact, DirArtifact, LinkArtifact
from fnrun.artifacts.model import ModelArtifact
from fnrun.artifacts.plots import PlotArtifact, PlotlyArtifact
from fnrun.artifacts.tabular import ChartArtifact, DatasetArtifact, TableArtifact

__all__ = [
    "Artifact",
    "ChartArtifact",
    "DatasetArtifact",
    "DirArtifact",
    "LinkArtifact",
    "ModelArtifact",
    "PlotArtifact",
    "PlotlyArtifact",
    "TableArtifact",
]
