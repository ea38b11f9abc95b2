"""Network edges: the HTTP serving front-end (and, later, the run-DB service).

May import: projects, runtimes and every layer below; nothing in the package imports it but the
CLI.
"""
