"""The run's progress widget in a real Jupyter kernel (ipykernel driven by nbclient, as a
notebook front-end would): ``fn.run`` in a cell shows one HTML output that is updated in
place (display_id) while the run prints below it, and ends showing how the run ended."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat (the dev extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient (the dev extra)")

CELL = """
import time
import fnrun

def epochs(context, n: int = 3):
    for i in range(1, n + 1):
        print(f"epoch {i}", flush=True)
        time.sleep(0.4)
    context.log_result("n", n)

run = fnrun.new_function("nb", kind="handler", project="kernel").run(handler=epochs)
print("state", run.state())
"""


def test_fn_run_in_a_kernel_shows_one_widget_updated_to_the_end(tmp_path: Path) -> None:
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    client = nbclient.NotebookClient(
        book, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = book.cells[0].outputs
    widgets = [o for o in outputs if o.output_type == "display_data"]
    assert len(widgets) == 1, outputs  # one widget, updated in place, not one per update
    html = widgets[0].data["text/html"]
    assert "fnrun-progress" in html and "badge completed" in html and "run nb" in html
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "epoch 1" in text and "epoch 3" in text and "state completed" in text
