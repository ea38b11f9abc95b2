"""The notebook display of a run: one HTML widget in the cell (state badge, name, uid, where,
elapsed time, the last output line; for hyper-parameter runs a bar with ``iteration 7/16,
1 error, best #3 loss=0.1``), updated in place as the run goes (once a second, and on each
iteration and output line, at most four times a second) and left showing how it ended.
The run's output prints below it as usual.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from fnrun.notebook.templating import render
from fnrun.runtimes.progress.tracker import RunProgress, watch_output

Display = Callable[..., Any]  # IPython.display.display


def progress_html(p: RunProgress) -> str:
    """The widget's HTML for ``p`` (``templates/progress.html``: everything escaped)."""
    return render("progress.html", p=p)


class NotebookReporter:
    """A reporter (``fn.run(progress=...)``) keeping one HTML widget up to date."""

    def __init__(self, display: Display | None = None, tick: float = 1.0) -> None:
        if display is None:
            from IPython.display import display as ipython_display

            display = ipython_display
        self.display: Display = display
        self.tick = tick
        self.progress = RunProgress()
        self._handle: Any = None
        self._shown = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watching: AbstractContextManager[None] | None = None

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.progress.apply(event, info)
        if event == "started":
            self._handle = self.display(_Html(progress_html(self.progress)), display_id=True)
            self._watching = watch_output(self._saw)
            self._watching.__enter__()
            threading.Thread(target=self._ticker, name="fnrun-progress", daemon=True).start()
        elif event == "finished":
            self._stop.set()
            if self._watching is not None:
                self._watching.__exit__(None, None, None)
                self._watching = None
            self._update(force=True)
        else:
            self._update(force=True)

    def _saw(self, line: str) -> None:
        self.progress.saw(line)
        self._update()

    def _ticker(self) -> None:
        while not self._stop.wait(self.tick):
            self._update(force=True)

    def _update(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if self._handle is None or (not force and now - self._shown < 0.25):
                return
            self._shown = now
            self._handle.update(_Html(progress_html(self.progress)))


class _Html:
    """What ``display`` renders as HTML (IPython's HTML without importing IPython here)."""

    def __init__(self, body: str) -> None:
        self.body = body

    def _repr_html_(self) -> str:
        return self.body
