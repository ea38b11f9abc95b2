"""HTML cards for notebooks: runs (``run.show()``), functions and graphs."""
