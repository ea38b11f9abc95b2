"""What ``fn.run`` shows while it runs: a live rich line in a terminal (elapsed time, the last
output line, a bar for iterations), an HTML widget updated in place in a notebook, plain lines
in a pipe. Driven by real runs; the terminal is a rich console recording to a string."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.runtimes.progress import LineReporter, default_reporter
from fnrun.runtimes.progress.live import LiveReporter
from fnrun.runtimes.progress.widget import NotebookReporter

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def epochs(context: fnrun.RunContext, n: int = 3, pause: float = 0.4) -> None:
    for i in range(1, n + 1):
        print(f"epoch {i} <b>loss</b>", flush=True)
        time.sleep(pause)
    context.log_result("n", n)


def score(context: fnrun.RunContext, x: int = 0) -> None:
    time.sleep(0.3)
    if x < 0:
        raise ValueError("negative")
    context.log_result("loss", (x - 2) ** 2)


def _terminal() -> tuple[Any, io.StringIO]:
    from rich.console import Console

    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def test_a_terminal_sees_a_live_line_with_the_elapsed_time_and_the_last_output() -> None:
    console, out = _terminal()
    fn = fnrun.new_function("live", kind="handler", project="prog")
    run = fn.run(handler=epochs, progress=LiveReporter(console, refresh_per_second=20))
    text = ANSI.sub("", out.getvalue())
    assert f"run live {run.uid()} started in project prog" in text
    frames = re.findall(r"running run live (\w{8}) (\d+\.\d) s  (epoch \d <b>loss</b>)", text)
    assert frames and {f[0] for f in frames} == {run.uid()[:8]}
    assert {f[2][:7] for f in frames} >= {"epoch 1", "epoch 2"}  # the last line follows
    assert max(float(f[1]) for f in frames) >= 0.4  # the timer moves
    assert "epoch 3 <b>loss</b>\n" in text  # the run's output itself scrolls above
    assert re.search(rf"run live {run.uid()} completed in \d+\.\d s", text)
    # the display is not part of the run: its log holds only what the run printed
    assert run.logs().splitlines() == [f"epoch {i} <b>loss</b>" for i in (1, 2, 3)]


def test_a_terminal_sees_a_bar_for_hyper_parameter_iterations() -> None:
    console, out = _terminal()
    fn = fnrun.new_function("grid", kind="handler", project="prog")
    run = fn.run(
        handler=score,
        hyperparams={"x": [1, 2, -1, 3]},
        hyper_param_options={"selector": "min.loss", "max_errors": 1},
        progress=LiveReporter(console, refresh_per_second=20),
    )
    text = ANSI.sub("", out.getvalue())
    assert "iteration 2/4, 0 errors, best #2 loss=0" in text
    assert "iteration 3/4 error (#3), 1 errors" in text  # a failed iteration stays on screen
    assert "iteration 4/4, 1 error, best #2 loss=0" in text
    assert f"run grid {run.uid()} completed in" in text


def test_one_live_display_at_a_time_the_other_run_reports_in_lines() -> None:
    console, out = _terminal()
    inner: list[str] = []

    def outer(context: fnrun.RunContext) -> None:
        nested = LiveReporter()  # on this run's stderr, as default_reporter would make it
        fnrun.new_function("inner", kind="handler").run(
            handler=epochs, params={"n": 1}, progress=nested
        )
        inner.append(str(nested._live))

    fnrun.new_function("outer", kind="handler").run(handler=outer, progress=LiveReporter(console))
    assert inner == ["None"]  # the nested run drew no second live display
    assert "run inner" in ANSI.sub("", out.getvalue())  # its lines reached the screen


class _Handle:
    def __init__(self, shown: list[str]) -> None:
        self.shown = shown

    def update(self, obj: Any) -> None:
        self.shown.append(obj._repr_html_())


def _recording_display() -> tuple[Any, list[str]]:
    shown: list[str] = []

    def display(obj: Any, display_id: bool = False) -> _Handle:
        assert display_id  # updated in place, never a new output per update
        shown.append(obj._repr_html_())
        return _Handle(shown)

    return display, shown


def test_a_notebook_widget_is_updated_in_place_to_the_end() -> None:
    display, shown = _recording_display()
    fn = fnrun.new_function("nb", kind="handler", project="prog")
    run = fn.run(handler=epochs, progress=NotebookReporter(display, tick=0.1))
    assert "badge running" in shown[0] and run.uid() in shown[0]
    assert any("epoch 2 &lt;b&gt;loss&lt;/b&gt;" in html for html in shown)  # escaped
    assert not any("<b>loss</b>" in html for html in shown)
    timers = [float(t) for html in shown for t in re.findall(r"'elapsed'>(\d+\.\d) s<", html)]
    assert len(set(timers)) >= 3 and timers == sorted(timers)
    assert "badge completed" in shown[-1] and "class='last'" not in shown[-1]


def test_a_notebook_widget_shows_iterations_and_the_error() -> None:
    display, shown = _recording_display()
    fn = fnrun.new_function("nbgrid", kind="handler", project="prog")
    with pytest.raises(fnrun.errors.RunError):
        fn.run(
            handler=score,
            hyperparams={"x": [-1, -2]},
            hyper_param_options={"selector": "min.loss"},
            progress=NotebookReporter(display, tick=0.1),
        )
    # the first failure stops it (max_errors=0): the bar shows how far it got
    assert "<progress value='1' max='2'></progress> iteration 1/2, 1 error<" in shown[-1]
    assert "badge error" in shown[-1] and "1 of 1 iterations failed" in shown[-1]


def test_the_default_display_follows_where_the_output_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe
    monkeypatch.delenv("FNRUN_PROGRESS", raising=False)
    quiet = default_reporter(True)  # a pipe: the start and end lines, no iteration lines
    assert isinstance(quiet, LineReporter) and not quiet.iterations
    monkeypatch.setenv("FNRUN_PROGRESS", "1")
    detailed = default_reporter(True)
    assert isinstance(detailed, LineReporter) and detailed.iterations
    assert default_reporter(False) is None
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stderr", tty)
    assert isinstance(default_reporter(True), LiveReporter)
    monkeypatch.setenv("FNRUN_PROGRESS", "lines")
    assert isinstance(default_reporter(True), LineReporter)
    monkeypatch.setenv("FNRUN_PROGRESS", "0")
    assert default_reporter(True) is None


def test_a_run_in_a_pipe_prints_one_start_and_one_end_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "piped.py"
    script.write_text(
        "import fnrun\n\n"
        "def train(context, p: int = 1):\n    context.log_result('p', p)\n\n"
        "if __name__ == '__main__':\n"
        "    fnrun.new_function('piped', kind='handler').run(handler=train,\n"
        "        hyperparams={'p': [1, 2, 3]}, selector='max.p')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FNRUN_PROGRESS"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env, check=True)  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("run piped ") and "started" in lines[0]
    assert " completed in " in lines[1]
    env["FNRUN_PROGRESS"] = "0"
    silent = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, env=env, check=True)  # fmt: skip
    assert silent.stderr == ""


def test_the_end_line_gives_the_web_ui_link_when_there_is_one() -> None:
    out = io.StringIO()
    report = LineReporter(out, iterations=False)
    report("started", {"uid": "u1", "name": "n", "project": "p"})
    report("iteration", {"done": 1, "total": 2, "state": "completed", "iteration": 1,
                         "errors": 0})  # fmt: skip
    report("finished", {"uid": "u1", "name": "n", "state": "completed",
                        "ui_url": "http://svc:8080/ui/projects/p/runs/u1"})  # fmt: skip
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "iteration" not in out.getvalue()
    assert lines[2] == "  web UI: http://svc:8080/ui/projects/p/runs/u1"
