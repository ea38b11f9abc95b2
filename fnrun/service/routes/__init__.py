"""The service's HTTP API, one ``APIRouter`` per resource: ``projects``, ``functions``,
``runs`` (with abort), ``artifacts`` (with downloads), ``logs``, ``schedules``, ``submit``
(jobs), ``hub``, and ``mlrun`` (MLRun's own client's API over the same DB). Each module has
one ``routes(...)`` that takes what its handlers need (the DB, the job runner, the
scheduler, the artifact roots) and answers the router; :func:`fnrun.service.rest.create_app`
includes them. Shared request parameters live in :mod:`fnrun.service.queries`.

May import: the rest of ``fnrun.service`` but ``rest`` (the app includes the routes, never
the other way), and every layer below it (``runtimes`` for abort, ``marketplace`` for the
hub, ``db``, ``model``, ``errors``).
"""
