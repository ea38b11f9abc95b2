"""The terminal display of a run: its start line, then one live line below the run's output
(spinner, state, elapsed time, the last output line; for hyper-parameter runs a bar with
``iteration 7/16, 1 error, best #3 loss=0.1``) redrawn a few times a second, then its end
line. Drawn with rich on stderr; the run's output still scrolls above it as it comes.

One display at a time: a run started while another's display is up (a run inside a run's
handler, runs in threads) reports in plain lines instead.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from fnrun.runtimes.progress.lines import finished_lines, iteration_line, started_line
from fnrun.runtimes.progress.tracker import RunProgress, watch_output

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from rich.console import Console, RenderableType
    from rich.live import Live

_ONE_LIVE = threading.Lock()  # rich allows one live display per console; we keep one in all


class LiveReporter:
    """A reporter (``fn.run(progress=...)``) drawing a live line with rich."""

    def __init__(self, console: Console | None = None, refresh_per_second: float = 4) -> None:
        import sys

        from rich.console import Console
        from rich.spinner import Spinner

        # the stream as it is now: a console following sys.stderr would write its frames
        # through the run's own capture of stderr while the run goes
        self.console = console or Console(file=sys.stderr)
        self.refresh_per_second = refresh_per_second
        self.progress = RunProgress()
        self._spinner = Spinner("dots")
        self._live: Live | None = None
        self._watching: AbstractContextManager[None] | None = None

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.progress.apply(event, info)
        if event == "started":
            self._say(started_line(info))
            self._start()
        elif event == "iteration" and (info.get("state") == "error" or self._live is None):
            self._say(iteration_line(info), "red" if info.get("state") == "error" else "")
        elif event == "finished":
            self._stop()
            state = info.get("state")
            for line in finished_lines(info, self.progress.elapsed):
                self._say(line, "green" if state == "completed" else "red")

    def _say(self, line: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(line, style=style), soft_wrap=True)

    def _start(self) -> None:
        from rich.live import Live

        if not _ONE_LIVE.acquire(blocking=False):
            return  # another run's display is up: plain lines for this one
        self._live = Live(
            self,
            console=self.console,
            refresh_per_second=self.refresh_per_second,
            transient=True,
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._live.start()
        self._watching = watch_output(self.progress.saw)
        self._watching.__enter__()

    def _stop(self) -> None:
        if self._live is None:
            return
        try:
            if self._watching is not None:
                self._watching.__exit__(None, None, None)
            self._live.stop()
        finally:
            self._live = self._watching = None
            _ONE_LIVE.release()

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        p = self.progress
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(p.state, style="bold yellow")
        line.append(f" run {p.name} {p.uid[:8]} ")
        line.append(f"{p.elapsed:.1f} s", style="cyan")
        if p.last_line:
            line.append(f"  {p.last_line}", style="dim")
        self._spinner.text = line
        if not p.total:
            return self._spinner
        row = Table.grid(padding=(0, 1))
        row.add_row(
            ProgressBar(total=p.total, completed=p.done, width=30), Text(p.counts(), no_wrap=True)
        )
        return Group(self._spinner, row)
