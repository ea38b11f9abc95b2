"""The plotly figure factory MLRun code calls and plotly 6 removed is there on MLRun's
surface, whatever the import order, without ``import mlrun`` importing plotly."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("plotly")

SCRIPT = """
import sys
import fnrun.compat.mlrun
assert "plotly" not in sys.modules, "importing the surface imported plotly"
import plotly.figure_factory as ff
fig = ff.create_annotated_heatmap(
    [[1.0, 0.2], [0.2, 1.0]], x=["a", "b"], y=["a", "b"],
    annotation_text=[["1.00", "0.20"], ["0.20", "1.00"]], colorscale="agsunset",
)
fig["layout"]["yaxis"]["autorange"] = "reversed"
fig["data"][0]["showscale"] = True
texts = [a.text for a in fig.layout.annotations]
print(fig.data[0].type, texts, fig.data[0].showscale)
"""


def test_the_removed_heatmap_factory_is_back_when_plotly_comes_later() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "heatmap ['1.00', '0.20', '0.20', '1.00'] True"


def test_plotly_imported_first_gets_it_too() -> None:
    import plotly.figure_factory as ff

    from fnrun.compat.mlrun import plotly_compat

    plotly_compat.install()
    with pytest.raises(ValueError, match="same dimensions"):
        ff.create_annotated_heatmap([[1, 2]], annotation_text=[["1"]])
