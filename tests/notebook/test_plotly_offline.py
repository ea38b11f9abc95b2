"""Plotly charts draw with no internet: the artifact page carries plotly.js, the notebook card
inlines the installed plotly's plotly.js once, the web UI draws them from its own copy in a
scripted sandbox with no origin — never a CDN. Checked in Chromium with every request that
is not local refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.notebook.figures import figure_json
from tests.browser import launch_chromium
from tests.notebook.test_cards import SHOTS

go = pytest.importorskip("plotly.graph_objects", reason="plotly (the plots extra)")
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']?(https?:)?//", re.I)


def chart(context: fnrun.RunContext) -> None:
    from fnrun.artifacts import PlotlyArtifact

    fig = go.Figure(go.Bar(x=[3, 2, 1], y=["a", "b", HOSTILE], orientation="h"))
    fig.update_layout(title="Feature importance")
    context.log_artifact(PlotlyArtifact("importance", figure=fig))


def _run() -> Any:
    return fnrun.new_function("charts", kind="handler", project="ui").run(handler=chart)


def offline(page: Any) -> list[str]:
    """Refuse every request that is not local; the refused URLs, to assert on."""
    refused: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file://", "data:", "about:")) or "://127.0.0.1" in url:
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    page.route("**/*", route)
    return refused


def test_the_artifact_page_is_whole_and_carries_its_figure() -> None:
    run = _run()
    body = run.artifact("importance").get()
    assert not REMOTE_SCRIPT.search(body.decode())  # plotly.js inside, as MLRun's
    assert b"Plotly.newPlot" in body
    figure = figure_json(body)
    assert figure is not None and '"orientation":"h"' in figure
    assert "<img" not in figure  # the hostile label is data, < written \\u003c


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.mark.integration
def test_the_notebook_card_draws_the_chart_offline(browser: Any, tmp_path: Path) -> None:
    card = _run()._repr_html_()
    assert card.count("function(") > 1000 and not REMOTE_SCRIPT.search(card)  # inlined
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    refused = offline(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / "plotly-card.html"
    path.write_text(f"<!doctype html><html><body>{card}</body></html>")
    page.goto(path.as_uri())
    page.click(".artifact[data-key=importance] summary")  # folded: drawn when opened
    page.wait_for_selector(".fnrun-plotly svg.main-svg", timeout=15_000)
    assert page.locator(".fnrun-plotly .bars path").count() == 3  # one bar per feature
    assert "Feature importance" in page.inner_text(".fnrun-plotly")
    assert page.title() != "pwned" and page.locator("img[src=x]").count() == 0
    assert refused == []
    page.screenshot(path=str(SHOTS / "plotly-card.png"), full_page=True)
