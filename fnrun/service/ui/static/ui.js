// fnrun web UI: sortable tables, picking runs to compare, live logs. No dependencies.
"use strict";

const FINAL = ["completed", "error", "aborted"];

function sortable(table) {
  table.querySelectorAll("th[data-sort]").forEach((th) => {
    th.addEventListener("click", () => {
      const col = Number(th.dataset.sort);
      const asc = !th.classList.contains("sorted-asc");
      table.querySelectorAll("th").forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
      th.classList.add(asc ? "sorted-asc" : "sorted-desc");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).filter((r) => r.cells.length > col);
      const key = (r) => r.cells[col].innerText.trim();
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        const nx = parseFloat(x), ny = parseFloat(y);
        const cmp = !isNaN(nx) && !isNaN(ny) && /^[-\d.]/.test(x) && /^[-\d.]/.test(y)
          ? nx - ny : x.localeCompare(y);
        return asc ? cmp : -cmp;
      });
      rows.forEach((r) => body.appendChild(r));
    });
  });
}

function comparePicker(form) {
  const button = form.querySelector("button.compare");
  if (!button) return;
  const update = () => {
    const picked = form.querySelectorAll("input[name=uid]:checked").length;
    button.disabled = picked < 2;
    button.textContent = picked ? `compare ${picked} selected` : "compare selected";
  };
  form.addEventListener("change", update);
  update();
}

async function tail(pre) {
  const decoder = new TextDecoder();
  let offset = 0;
  const live = pre.dataset.live === "1";
  for (;;) {
    let state = "";
    try {
      const answer = await fetch(`${pre.dataset.url}&offset=${offset}`, { credentials: "same-origin" });
      if (!answer.ok) break;
      const bytes = new Uint8Array(await answer.arrayBuffer());
      if (bytes.length) {
        const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.textContent += decoder.decode(bytes, { stream: true });
        offset += bytes.length;
        if (atEnd) pre.scrollTop = pre.scrollHeight;
      }
      state = answer.headers.get("x-fnrun-run-state") || "";
    } catch (e) {
      state = "";
    }
    if (!live) return;
    if (FINAL.includes(state)) {  // the run ended: show its results and artifacts
      location.reload();
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.grid").forEach(sortable);
  document.querySelectorAll("form").forEach(comparePicker);
  document.querySelectorAll("select[data-autosubmit]").forEach((s) =>
    s.addEventListener("change", () => s.form.submit()));
  document.querySelectorAll("pre.log[data-url]").forEach(tail);
});

// hub item pages: the copy button puts the import line on the clipboard
document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(button.dataset.copy).then(() => { button.textContent = "copied"; });
  });
});
