"""``mlrun.db``: ``get_run_db()`` is fnrun's run DB."""

from fnrun.db import get_run_db

__all__ = ["get_run_db"]
