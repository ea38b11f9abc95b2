"""The service's routes are one module per resource (``fnrun.service.routes``) and the app
serves every one of them: a route module added but not included fails here."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.service import routes as routes_pkg
from fnrun.service.queries import PREFIX
from fnrun.service.rest import create_app
from fnrun.service.routes.mlrun import MLRUN_PREFIX


def _served(app: object) -> set[tuple[str, str]]:
    paths = app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_module_is_served(tmp_path: Path) -> None:
    db = SQLRunDB(f"sqlite:///{tmp_path / 'r.db'}")
    app = create_app(db, scheduler=False, artifact_roots=[tmp_path], workers=1)
    served = _served(app)
    names = [m.name for m in pkgutil.iter_modules(routes_pkg.__path__)]
    assert {"projects", "functions", "runs", "artifacts", "logs", "schedules"} <= set(names)
    for name in names:
        module = importlib.import_module(f"fnrun.service.routes.{name}")
        if not hasattr(module, "routes"):
            continue
        args = {"projects": (db,), "functions": (db,), "runs": (db,), "logs": (db,),
                "mlrun": (db,), "artifacts": (db, [tmp_path]), "schedules": (db, None),
                "submit": (None,), "hub": ()}[name]  # fmt: skip
        router = module.routes(*args)
        own = {(m, r.path) for r in router.routes for m in r.methods}  # type: ignore[attr-defined]
        assert all(path.startswith(MLRUN_PREFIX if name == "mlrun" else PREFIX) for _, path in own)
        assert own and own <= served, f"{name}: {sorted(own - served)} not served by the app"
    db.close()
