"""``here``: the handler runs in this process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fnrun.execution.execute import execute
from fnrun.runtimes.placements import Place, register_placement

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike


def in_process(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    code_dir = Path(settings.home) / "code"

    def place(request: Any) -> dict[str, Any]:
        return execute(request, db, code_dir=code_dir, echo=watch).to_dict()

    return place


register_placement("here", in_process, lambda fn: "in this process")
