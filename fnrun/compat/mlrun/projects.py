"""``mlrun.projects``: fnrun's projects (``MlrunProject`` is :class:`fnrun.Project`)."""

from fnrun.projects import Project as MlrunProject
from fnrun.projects import get_or_create_project, load_project, new_project

__all__ = ["MlrunProject", "get_or_create_project", "load_project", "new_project"]
