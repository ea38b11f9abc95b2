"""``fnrun hub ...`` over the unmodified hub sample (a directory source)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fnrun.cli import app
from tests.conftest import HUB_SAMPLE

runner = CliRunner()


def _run(*args: str) -> str:
    done = runner.invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def test_list_search_and_show(monkeypatch: pytest.MonkeyPatch) -> None:
    from fnrun.cli_common import console

    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"sample={HUB_SAMPLE}")
    monkeypatch.setattr(console, "_width", 80)  # a narrow terminal: names are never cut
    listed = _run("hub", "list")
    for name in ("aggregate", "describe", "gen_class_data", "load_dataset", "v2_model_server"):
        assert name in listed
    assert "serving" in listed  # the kinds
    found = _run("hub", "search", "sklearn")
    assert "v2_model_server" in found and "aggregate" not in found
    shown = _run("hub", "show", "describe")
    assert "hub://sample/describe:1.5.0" in shown
    assert "analyze" in shown and "label_column: str = None  Ground truth column label" in shown


def test_sources_can_be_added_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FNRUN_HUB_SOURCES", raising=False)
    assert "https://mlrun.github.io/marketplace" in _run("hub", "sources")
    _run("hub", "add-source", "team", str(HUB_SAMPLE), "--first")
    _run("hub", "remove-source", "mlrun")
    shown = _run("hub", "sources")
    assert "team" in shown and "mlrun.github.io" not in shown
    assert "describe" in _run("hub", "list")


def test_show_prints_whole_docs_as_text_and_leaves_the_context_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fnrun.cli_common import console

    monkeypatch.delenv("FNRUN_HUB_SOURCES", raising=False)  # the bundled hub comes first
    monkeypatch.setattr(console, "_width", 200)
    shown = _run("hub", "show", "train_sklearn")
    assert "feature-importance table (and plotly chart" in shown  # the doc's last sentence
    assert "``" not in shown and ":param" not in shown  # no RST markup, no fields
    assert "  context" not in shown  # fnrun passes it: not a parameter anyone sets
    assert "dataset: DataItem  the training data" in shown  # typed as an input


def test_plain_doc_strips_fields_and_markup() -> None:
    from fnrun.marketplace.docs import plain_doc

    doc = """Fit ``model`` with :func:`~pkg.mod.fit` and `x`.

    Example::

        run(1)

    :param a: the first
        and more
    :returns: nothing
    """
    assert plain_doc(doc) == "Fit model with fit and x.\n\nExample:\n\n    run(1)"
