"""The web UI in a real headless Chromium (Playwright driving Debian's chromium) against the
running service: sign in, click from a project to a run, open artifact previews, compare two
runs, follow a live log, read it on a phone. Screenshots go to test-artifacts/ui-*.png."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.db.http import HTTPRunDB
from tests.browser import launch_chromium
from tests.db.restserver import serving_this_process
from tests.notebook.test_cards import SHOTS, rich_handler

pytestmark = pytest.mark.integration
pytest.importorskip("fastapi")
TOKEN = "ui-t0ken"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
SLOW = textwrap.dedent(
    """
    import time

    def slow(context, lines: int = 8):
        for i in range(lines):
            print(f"line {i}", flush=True)
            time.sleep(0.5)
        context.log_result("lines", lines)
    """
)


def report(context: fnrun.RunContext) -> None:
    page = "<h1>weekly report</h1><script>parent.document.title = 'pwned'</script>"
    context.log_artifact("report", body=page, format="html")
    context.log_result("pages", 1)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, HTTPRunDB]]:
    with serving_this_process(tmp_path, monkeypatch, TOKEN) as (url, client, _sql):
        yield url, client


def _runs() -> list[Any]:
    fn = fnrun.new_function("cards", kind="handler", project="ui")
    fn.save()
    runs = [fn.run(handler=rich_handler, params={"rate": r}, labels={"who": HOSTILE})
            for r in (0.3, 0.8)]  # fmt: skip
    runs.append(fn.run(handler=rich_handler, hyperparams={"rate": [0.2, 0.9, 0.5]},
                       hyper_param_options={"selector": "max.accuracy"}))  # fmt: skip
    runs.append(fn.run(handler=report, name="report"))
    return runs


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"ui-{name}.png"), full_page=True)


def _sign_in(browser: Any, url: str, viewport: dict[str, int] | None = None) -> Any:
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    page.goto(f"{url}/ui/projects/ui/runs")
    assert "/ui/login" in page.url  # no session yet
    page.fill("input[name=token]", "wrong")
    page.click("button")
    assert "that token is not the service's" in page.inner_text("main")
    page.fill("input[name=token]", TOKEN)
    page.click("button")
    return page


def test_from_a_project_to_a_run_and_its_artifacts(
    browser: Any, service: tuple[str, HTTPRunDB]
) -> None:
    url, _client = service
    runs = _runs()
    page = _sign_in(browser, url)
    page.goto(f"{url}/ui")
    _shot(page, "projects")
    page.click("text=ui")
    assert "cards" in page.inner_text("table")  # the project's function
    page.click("text=all runs")
    rows = page.locator("table.runs tbody tr")
    assert rows.count() == 4
    assert page.title() != "pwned" and HOSTILE[:8] in page.inner_text("table.runs")
    page.click("table.runs th a:has-text('name')")  # sorted in the DB, across pages
    assert "sort=name" in page.url
    names = page.locator("table.runs tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names) and "name ▲" in page.inner_text("table.runs thead")
    page.click("table.runs th:has-text('duration')")  # sorted in the page
    assert page.locator("table.runs th.sorted-asc").count() == 1
    _shot(page, "runs")

    single = runs[1]
    page.click(f"text={single.uid()[:8]}")
    assert page.inner_text(".badge") == "completed"
    card = page.locator(".run .fnrun-card")
    assert card.locator(".artifact").count() == 5
    people = card.locator(".artifact[data-key=people]")
    assert "5 rows" in people.inner_text() and people.locator("svg.hist").count() == 2
    assert card.locator(".artifact[data-key=curve] polyline").count() == 1
    width = page.eval_on_selector(".artifact[data-key=plot] img", "img => img.naturalWidth")
    assert width > 100
    assert "auc" in card.locator(".artifact[data-key=model]").inner_text()
    download = card.locator(".artifact[data-key=scores] a")
    assert "/api/v1/artifacts/scores/download" in (download.get_attribute("href") or "")
    _shot(page, "run")

    page.goto(f"{url}/ui/projects/ui/runs/{runs[2].uid()}")  # the hyper-parameter run
    best = page.locator("tr.best")
    assert best.count() == 1 and "0.9" in best.inner_text()

    page.goto(f"{url}/ui/projects/ui/runs/{runs[3].uid()}")  # an HTML artifact, sandboxed
    frame = page.frame_locator("iframe.html-preview")
    assert frame.locator("h1").inner_text() == "weekly report"
    page.wait_for_timeout(300)
    assert page.title() != "pwned"  # its script did not run
    _shot(page, "html-artifact")


def test_compare_two_runs(browser: Any, service: tuple[str, HTTPRunDB]) -> None:
    url, _client = service
    first, second, *_ = _runs()
    page = _sign_in(browser, url)
    button = page.locator("button.compare")
    assert button.is_disabled()
    page.check(f"input[value='{first.uid()}']")
    page.check(f"input[value='{second.uid()}']")
    assert button.inner_text() == "compare 2 selected"
    button.click()
    assert "/ui/projects/ui/compare" in page.url
    table = page.locator("table.compare").first
    heads = table.locator("thead th.run-head").all_inner_texts()
    started = {r.status["start_time"][5:16].replace("T", " ") for r in (first, second)}
    assert {h.removeprefix("cards ") for h in heads} == started  # by name and start (MLflow)
    assert table.locator(f"a[title='run {second.uid()}']").count() == 1
    rate_row = page.locator("table.compare tr", has_text="rate").first
    assert "0.3" in rate_row.inner_text() and "0.8" in rate_row.inner_text()
    assert rate_row.locator("td.differs").count() == 1  # only the value that differs
    assert "differs" not in (rate_row.locator("td").first.get_attribute("class") or "")
    bars = page.locator("svg.bars rect.bar")
    assert bars.count() == 2
    widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(2)]
    assert max(widths) > 5 * min(widths) > 0  # from a baseline under 0.3, not from zero
    drawn = page.text_content("svg.bars") or ""
    assert "from 0.225" in drawn and ("(-0.5)" in drawn or "(+0.5)" in drawn)  # the change
    lines = page.locator("svg.parallel polyline.run-line")
    assert lines.count() == 2  # parallel coordinates: rate -> accuracy, a line per run
    assert (page.text_content("svg.parallel") or "").count("rate") == 1
    _shot(page, "compare")


def test_a_live_log_follows_the_run(
    browser: Any, service: tuple[str, HTTPRunDB], tmp_path: Path
) -> None:
    url, client = service
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    fn = fnrun.code_to_function("slow", filename=str(path), kind="job", handler="slow")
    pending = client.submit_job(fn.to_dict(), {"params": {"lines": 8}})
    uid = pending["metadata"]["uid"]
    page = _sign_in(browser, url)
    page.goto(f"{url}/ui/projects/default/runs/{uid}")
    from playwright.sync_api import expect

    log = page.locator("pre.log")
    expect(log).to_contain_text("line 2", timeout=20_000)
    assert "line 7" not in log.inner_text()  # it is still going: the page shows it as it comes
    _shot(page, "live-log")
    # the run ended: the page reloads with its results
    expect(page.locator(".badge").first).to_have_text("completed", timeout=30_000)
    assert "line 7" in page.inner_text("pre.log") and "lines" in page.inner_text(".run")


def test_readable_on_a_phone(browser: Any, service: tuple[str, HTTPRunDB]) -> None:
    url, _client = service
    _runs()
    page = _sign_in(browser, url, viewport={"width": 390, "height": 844})
    assert page.locator("table.runs tbody tr").count() == 4
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1  # the table scrolls inside its box, the page does not
    _shot(page, "phone-runs")


ADDER = """
class Add:
    def __init__(self, context, name=None, n=1):
        self.n = n

    def do(self, body):
        return {"value": body["x"] + self.n}
"""


def test_a_serving_function_with_its_graph_address_and_requests(
    browser: Any, service: tuple[str, HTTPRunDB], tmp_path: Path
) -> None:
    url, _client = service
    code = tmp_path / "adder.py"
    code.write_text(ADDER)
    fn = fnrun.code_to_function("adder", filename=str(code), kind="serving", project="ui")
    fn.set_topology("flow").to("Add", name="add", n=10).respond()  # type: ignore[attr-defined]
    address = fn.deploy()  # type: ignore[attr-defined]
    try:
        for x in (1, 2, 3):
            assert fn.invoke("/", {"x": x}) == {"value": x + 10}  # type: ignore[attr-defined]
        page = _sign_in(browser, url)
        page.goto(f"{url}/ui/projects/ui/functions/adder")
        text = page.inner_text("main")
        assert "ready" in text and address in text
        assert "status 200" in text and "step add" in text and "3 calls" in text
        assert page.locator(".graph svg").count() == 1  # the graph, drawn
        _shot(page, "serving")
    finally:
        fn.stop()  # type: ignore[attr-defined]


def test_the_serving_page_shows_the_last_tracked_records_of_a_chosen_step(
    browser: Any, service: tuple[str, HTTPRunDB], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _client = service
    code = tmp_path / "adder.py"
    code.write_text(ADDER + "\n\ndef again(body):\n    return {'value': body['value'] + 1}\n")
    track = tmp_path / "tracking"
    monkeypatch.setenv("FNRUN_TRACKING_ROOTS", str(tmp_path))  # where the service may read
    fn = fnrun.code_to_function("tracked", filename=str(code), kind="serving", project="ui")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to("Add", name="add", n=10).to(handler="again", name="again").respond()
    fn.set_tracking(str(track), steps=["add", "again"])  # type: ignore[attr-defined]
    fn.deploy()  # type: ignore[attr-defined]
    try:
        for x in (1, 2, 3):
            body = {"x": x, "note": HOSTILE}  # a request's data is hostile on the page
            assert fn.invoke("/", body) == {"value": x + 11}  # type: ignore[attr-defined]
    finally:
        fn.stop()  # type: ignore[attr-defined]  # its sink is flushed at shutdown
    page = _sign_in(browser, url)
    page.goto(f"{url}/ui/projects/ui/functions/tracked")
    text = page.inner_text("main")
    assert "tracked records" in text and str(track) in text
    rows = page.locator("h2:has-text('tracked records') + p + div table tbody tr")
    assert rows.count() == 3
    assert '"x": 3' in rows.first.inner_text()  # newest first, step "add" (the first)
    assert "onerror" in rows.first.inner_text()  # the hostile field, shown as text
    assert page.title() != "pwned" and page.locator("main img[src=x]").count() == 0
    page.click("a:text-is('again')")  # the other step
    assert "step=again" in page.url
    assert '{"value": 14}' in rows.first.inner_text()
    _shot(page, "tracked-records")


def _out_of_range(p: int) -> None:
    if p == 2:
        raise ValueError(f"p={p} is out of range {HOSTILE}")


def flaky_train(context: fnrun.RunContext, p: int = 1) -> None:
    _out_of_range(p)
    context.log_result("score", p)


def test_a_failed_iteration_shows_its_error_and_traceback_on_the_run_page(
    browser: Any, service: tuple[str, HTTPRunDB]
) -> None:
    url, _client = service
    fn = fnrun.new_function("grid", kind="handler", project="ui")
    run = fn.run(handler=flaky_train, hyperparams={"p": [1, 2, 3]}, selector="max.score",
                 hyper_param_options={"max_errors": 1})  # fmt: skip
    page = _sign_in(browser, url)
    page.goto(f"{url}/ui/projects/ui/runs/{run.uid()}")
    card = page.locator(".run .fnrun-card")
    assert "completed, 1 of 3 iterations failed" in card.inner_text()
    failed = card.locator("details.iteration-error[data-iter='2']")
    assert "#2 ValueError: p=2 is out of range" in failed.locator("summary").inner_text()
    assert not failed.locator("pre").is_visible()  # folded
    failed.locator("summary").click()
    trace = failed.locator("pre").inner_text()
    assert "in _out_of_range" in trace and "execute.py" not in trace  # the user's frames only
    assert page.title() != "pwned" and card.locator("img[src=x]").count() == 0
    _shot(page, "failed-iteration")


def test_a_plotly_chart_draws_on_the_run_page_with_no_internet(
    browser: Any, service: tuple[str, HTTPRunDB]
) -> None:
    from tests.notebook.test_plotly_offline import chart, offline

    url, _client = service
    run = fnrun.new_function("charts", kind="handler", project="ui").run(handler=chart)
    page = _sign_in(browser, url)
    refused = offline(page)
    page.goto(f"{url}/ui/projects/ui/runs/{run.uid()}")
    frame_el = page.locator("iframe.plotly-preview")
    assert frame_el.get_attribute("sandbox") == "allow-scripts"  # scripts, but no origin of ours
    frame = frame_el.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_selector("svg.main-svg", timeout=15_000)
    assert frame.locator(".bars path").count() == 3 and "Feature importance" in frame.inner_text(
        "body"
    )
    assert frame.evaluate("window.origin") == "null"  # no cookies, no DOM or API of ours
    assert page.title() != "pwned" and frame.locator("img[src=x]").count() == 0
    assert refused == [], refused
    _shot(page, "plotly-chart")


def test_the_hub_is_searched_and_each_item_has_a_page(
    browser: Any, service: tuple[str, HTTPRunDB], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FNRUN_HUB_SOURCES", raising=False)  # the bundled hub first
    url, _client = service
    page = _sign_in(browser, url)
    page.goto(f"{url}/ui/hub")
    page.fill("input[name=q]", "sklearn")
    page.click("form.filters button")
    names = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert "train_sklearn" in names and "open_archive" not in names  # searched
    page.click("a:text-is('train_sklearn')")
    assert "/ui/hub/fnrun/train_sklearn" in page.url
    main = page.inner_text("main")
    line = page.locator("input.copy").input_value()
    assert line == 'fn = fnrun.import_function("hub://fnrun/train_sklearn:1.0.0")'
    assert "``" not in main and ":param" not in main  # the docs rendered, not raw RST
    assert "run = fnrun.import_function" in page.inner_text("pre.code")  # the example, as code
    params = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert "dataset" in params and "context" not in params
    row = page.locator("table tbody tr", has_text="test_size")
    assert "float" in row.inner_text() and "0.2" in row.inner_text()  # type and default
    _shot(page, "hub-item")
