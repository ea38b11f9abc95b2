"""Artifact kinds (``from fnrun.artifacts import ChartArtifact, ...``), the logging path and
the updates of logged datasets and models.

May import: datastore, db, model, notebook and the shared leaves (errors, config, clock, extras,
pyparse); never execution (a run is typed by the small protocol in manager.py).
"""

from fnrun.artifacts.base import Artifact, DirArtifact, LinkArtifact
from fnrun.artifacts.model import ModelArtifact
from fnrun.artifacts.plots import PlotArtifact, PlotlyArtifact
from fnrun.artifacts.tabular import ChartArtifact, DatasetArtifact, TableArtifact
from fnrun.artifacts.update import update_dataset_meta, update_model

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
    "update_dataset_meta",
    "update_model",
]
