"""Network edges: the HTTP serving front-end (and, later, the run-DB service)."""
