"""``mlrun.artifacts`` (and ``mlrun.artifacts.model``, ``.dataset``, ``.plots``...): fnrun's
artifact kinds, ``get_model``, ``update_model`` and ``update_dataset_meta``."""

from fnrun.artifacts import (
    Artifact,
    ChartArtifact,
    DatasetArtifact,
    DirArtifact,
    LinkArtifact,
    ModelArtifact,
    PlotArtifact,
    PlotlyArtifact,
    TableArtifact,
    update_dataset_meta,
    update_model,
)
from fnrun.artifacts.model import get_model

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
    "get_model",
    "update_dataset_meta",
    "update_model",
]
