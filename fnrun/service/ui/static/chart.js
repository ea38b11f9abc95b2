// fnrun web UI: draw a plotly chart page's figure (data, never markup) with the service's plotly.js.
"use strict";
document.querySelectorAll(".chart[data-figure]").forEach((el) => {
  const figure = JSON.parse(el.dataset.figure);
  Plotly.newPlot(el, figure.data || [], figure.layout || {}, {displaylogo: false, responsive: true});
});
