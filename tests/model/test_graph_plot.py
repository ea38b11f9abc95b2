from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import FnrunError


def _fn() -> fnrun.BaseRuntime:
    fn = fnrun.new_function("p", kind="serving")
    g = fn.set_topology("flow")  # type: ignore[attr-defined]
    g.to(handler="inc", name="prep").to("Model", name="model").respond()
    g.add_step(handler="log", name="audit", after="prep")
    g.add_step(">>", "q1", after="model", path="kafka://h:9092/t")
    g.add_step(handler="enrich", name="enrich", after="q1", function="worker")
    g["model"].error_handler("catch", handler="catcher")
    return fn


def test_svg_shows_steps_queues_error_edges_and_functions(tmp_path: Path) -> None:
    svg = _fn().plot(str(tmp_path / "g.svg"))  # type: ignore[attr-defined]
    assert (tmp_path / "g.svg").read_text() == svg
    for text in (
        "prep: inc",
        "model: Model",
        "q1 &gt;&gt; kafka://h:9092/t",
        "enrich",
        "catch: catcher",
        "function worker",
    ):
        assert text in svg
    assert "stroke-dasharray='5,4'" in svg  # the error edge
    assert "stroke-width='3'" in svg  # the responder
    assert svg.count("<line ") == 5  # prep->model, prep->audit, model->q1, q1->enrich, error


def test_html_dot_and_router(tmp_path: Path) -> None:
    fn = _fn()
    fn.plot(str(tmp_path / "g.html"))  # type: ignore[attr-defined]
    assert (tmp_path / "g.html").read_text().startswith("<!doctype html><html><body><svg")
    fn.plot(str(tmp_path / "g.dot"))  # type: ignore[attr-defined]
    dot = (tmp_path / "g.dot").read_text()
    assert '"model" -> "catch" [color=red, style=dashed];' in dot and "cylinder" in dot
    router = fnrun.new_function("r", kind="serving")
    r = router.set_topology("router")  # type: ignore[attr-defined]
    r.add_route("m1", class_name="A")
    r.add_route("m2", class_name="B")
    svg = router.plot()  # type: ignore[attr-defined]
    assert "m1: A" in svg and "m2: B" in svg and svg.count("<line ") == 2


def test_png_needs_graphviz(tmp_path: Path) -> None:
    target = tmp_path / "g.png"
    if shutil.which("dot") is None:
        with pytest.raises(FnrunError, match="needs graphviz"):
            _fn().plot(str(target))  # type: ignore[attr-defined]
    else:
        _fn().plot(str(target))  # type: ignore[attr-defined]
        assert target.read_bytes()[:4] == b"\x89PNG"


def test_dot_quotes_names_and_labels() -> None:
    from fnrun.model.graph_plot import dot_string, to_dot

    assert dot_string('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    fn = fnrun.new_function("s", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(class_name='x"];evil[label="y', name="s1")
    dot = to_dot(graph)
    # the class stays inside the label's quotes: no statement or attribute of its own
    assert 'label="s1: x\\"];evil[label=\\"y"' in dot
    assert "\nevil" not in dot and '"];evil' not in dot.replace('\\"];evil', "")
