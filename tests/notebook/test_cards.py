"""HTML cards of runs, functions and graphs: built from real runs, then opened in a real
headless Chromium (Playwright driving Debian's chromium) and checked by what a person sees.
Screenshots go to test-artifacts/ (FNRUN_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.artifacts import ChartArtifact, PlotArtifact, TableArtifact
from tests.browser import launch_chromium

SHOTS = Path(os.environ.get("FNRUN_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


def rich_handler(context: fnrun.RunContext, rate: float = 0.5) -> float:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame({"age": [20, 35, 47, 52, 61], "income": [1.0, 2.5, 2.0, 3.5, 4.0]})
    context.log_dataset("people", df=frame, stats=True)
    context.log_artifact(
        ChartArtifact("curve", data=[[1, 0.5], [2, 0.7], [3, 0.9]], header=["epoch", "acc"])
    )
    scores = TableArtifact("scores", header=["name", "score"])
    scores.add_row(["a", 1])
    scores.add_row(["b", 2])
    context.log_artifact(scores)
    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot([1, 2, 3], [2, 1, 3])
    context.log_artifact(PlotArtifact("plot", body=figure))
    context.log_model("model", body=b"weights", model_file="m.bin", metrics={"auc": 0.93})
    context.log_result("accuracy", rate)
    return rate


def failing(context: fnrun.RunContext) -> None:
    raise ValueError("the <b>data</b> was bad")


def _write(name: str, body: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = SHOTS / f"{name}.html"
    page.write_text(f"<!doctype html><html><body>{body}</body></html>")
    return page


def test_run_card_escapes_and_marks_the_best_iteration() -> None:
    fn = fnrun.new_function("cards", kind="handler")
    run = fn.run(
        handler=rich_handler,
        hyperparams={"rate": [0.2, 0.9, 0.5]},
        hyper_param_options={"selector": "max.accuracy"},
    )
    card = run._repr_html_()
    assert "class=best" in card and "iterations (best: 2)" in card
    with pytest.raises(fnrun.RunError) as failed:
        fn.run(handler=failing)
    bad = failed.value.run._repr_html_()
    assert "&lt;b&gt;data&lt;/b&gt;" in bad and "<b>data</b>" not in bad
    assert "<details class='run-error'>" in bad and "Traceback" in bad


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.mark.integration
def test_run_card_in_a_real_browser(browser: Any) -> None:
    run = fnrun.new_function("cards", kind="handler").run(handler=rich_handler)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(_write("run-card", run._repr_html_()).as_uri())
    assert page.inner_text(".badge") == "completed"
    assert page.locator(".artifact").count() == 5
    lines = [line for line in page.inner_text(".fnrun-card").splitlines() if line.strip()]
    assert len(lines) <= 40, lines  # compact: a summary, the results, folded artifacts
    assert page.locator(".artifact[open]").count() == 0
    assert " · took " in page.inner_text(".fnrun-card .sub")  # the summary line says how long
    assert page.locator(".artifact a[href^='file:']").count() == 0  # Jupyter cannot open them
    assert "people.parquet" in page.text_content(".artifact[data-key=people] .uri")  # as text
    for summary in page.locator(".artifact summary").all():
        summary.click()  # unfolded, each shows its preview
    people = page.locator(".artifact[data-key=people]")
    assert "5 rows" in people.inner_text() and people.locator("svg.hist").count() == 2
    assert page.locator(".artifact[data-key=curve] polyline").count() == 1
    assert "score" in page.locator(".artifact[data-key=scores] table").inner_text()
    width = page.eval_on_selector(".artifact[data-key=plot] img", "img => img.naturalWidth")
    assert width > 100  # the PNG decoded and drew
    assert "auc" in page.locator(".artifact[data-key=model]").inner_text()
    page.screenshot(path=str(SHOTS / "run-card.png"), full_page=True)


@pytest.mark.integration
def test_error_card_and_function_card_in_a_real_browser(browser: Any) -> None:
    with pytest.raises(fnrun.RunError) as failed:
        fnrun.new_function("cards", kind="handler").run(handler=failing)
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(_write("error-card", failed.value.run._repr_html_()).as_uri())
    assert page.inner_text(".badge") == "error"
    summary = page.locator(".run-error summary")
    assert "the <b>data</b> was bad" in summary.inner_text()  # shown as text, not markup
    assert not page.locator(".run-error pre").is_visible()  # the traceback is folded
    summary.click()
    assert "Traceback" in page.locator(".run-error pre").inner_text()
    page.screenshot(path=str(SHOTS / "error-card.png"), full_page=True)

    serving = fnrun.new_function("shop", kind="serving")
    graph = serving.set_topology("flow")
    graph.to("Prep", name="prep").to("*", name="models").respond()
    serving.add_model("m1", class_name="Model")
    page.goto(_write("function-card", serving._repr_html_()).as_uri())
    assert "function shop" in page.inner_text("h3")
    assert page.locator(".graph svg").count() == 1 and "prep" in page.inner_text(".graph")
    page.screenshot(path=str(SHOTS / "function-card.png"), full_page=True)


def test_artifact_links_only_use_storage_schemes() -> None:
    from fnrun.notebook.run_card import _href

    assert _href("/data/x.csv") == "file:///data/x.csv"
    assert _href("s3://bucket/x.csv") == "s3://bucket/x.csv"
    assert _href("javascript://%0aalert(1)") == ""
