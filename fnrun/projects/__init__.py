"""Projects (MLRun's ``new_project``/``get_or_create_project``/``load_project``): one object
that holds a project's functions, runs and artifacts, and a ``project.yaml`` that exports and
loads back.

May import: runtimes and the layers below.
"""

from fnrun.projects.project import (
    Project,
    get_or_create_project,
    load_project,
    new_project,
)

__all__ = ["Project", "get_or_create_project", "load_project", "new_project"]
