"""Run hyper-parameter iterations as child runs of one parent run.

Children share the parent's uid with iterations 1..N (each its own DB row); the parent
(iteration 0) holds the iterations table, ``best_iteration`` and the best child's results and
artifacts. Iterations run one after another in the run's placement, or ``parallel_runs`` at a
time in child processes; a ``stop_condition`` (safe expression over results and params) stops
scheduling new ones; more than ``max_errors`` failed iterations fail the parent.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from fnrun.execution.context import RunContext
from fnrun.execution.execute import context_for
from fnrun.execution.hyper import HyperParamOptions, best_iteration, iterations, parse_selector
from fnrun.execution.safe_expr import evaluate, parse
from fnrun.execution.tracebacks import first_line, user_traceback

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest

Place = Callable[["RunRequest"], dict[str, Any]]


def run_iterations(
    request: RunRequest,
    hyperparams: Any,
    options: HyperParamOptions,
    place: Place,
    db: RunDB,
    report: Any = None,
) -> dict[str, Any]:
    """Run every iteration through ``place`` and return the committed parent document;
    ``report("iteration", {...})`` hears of each iteration as it ends."""
    combos = iterations(hyperparams, options)
    parse_selector(options.selector)  # a bad selector fails before anything runs
    stop = parse(options.stop_condition) if options.stop_condition else None
    parent = context_for(request, db)
    request.uid = parent.uid
    parent.spec_extra = {
        "hyperparams": hyperparams if options.param_file == "" else {},
        "hyper_param_options": _options_doc(options),
    }
    parent.state = "running"
    parent.commit()
    if request.submitted is not None:
        request.submitted.set()  # watch=False: the caller has its run; the iterations go on
    children = [
        dataclasses.replace(request, params={**request.params, **params}, iteration=i)
        for i, params in enumerate(combos, start=1)
    ]
    runner = _parallel if options.parallel_runs > 1 else _sequential
    if report is not None:
        report("planned", {"uid": parent.uid, "total": len(children)})
        place = _reporting(place, len(children), options, report, parent.uid)
    docs = runner(children, place, options, stop)
    return _finish(parent, docs, options)


def _reporting(
    place: Place, total: int, options: HyperParamOptions, report: Any, uid: str
) -> Place:
    """``place`` that reports each finished iteration: how many of ``total``, the errors so
    far and the best so far (by the selector)."""
    done: list[dict[str, Any]] = []
    lock = threading.Lock()

    def run(child: RunRequest) -> dict[str, Any]:
        doc = place(child)
        with lock:
            done.append(doc)
            finished = list(done)
        ok = [
            (d["metadata"]["iteration"], d.get("status", {}).get("results", {}))
            for d in finished
            if d.get("status", {}).get("state") == "completed"
        ]
        best = best_iteration(ok, options.selector) if options.selector else 0
        _, key = parse_selector(options.selector) if options.selector else ("", "")
        value = dict(ok).get(best, {}).get(key) if best else None
        report(
            "iteration",
            {
                "uid": uid,
                "iteration": child.iteration,
                "state": doc.get("status", {}).get("state", ""),
                "done": len(finished),
                "total": total,
                "errors": len(finished) - len(ok),
                "best": best,
                "best_value": f"{key}={value}" if best else "",
            },
        )
        return doc

    return run


def _should_stop(doc: dict[str, Any], errors: int, options: HyperParamOptions, stop: Any) -> bool:
    if errors > options.max_errors:
        return True
    if stop is None or doc.get("status", {}).get("state") != "completed":
        return False
    env = {**doc.get("spec", {}).get("parameters", {}), **doc["status"].get("results", {})}
    return bool(evaluate(stop, env))


def _sequential(
    children: list[RunRequest], place: Place, options: HyperParamOptions, stop: Any
) -> list[dict[str, Any]]:
    docs, errors = [], 0
    for child in children:
        doc = place(child)
        docs.append(doc)
        errors += doc.get("status", {}).get("state") == "error"
        if _should_stop(doc, errors, options, stop):
            break
    return docs


def _parallel(
    children: list[RunRequest], place: Place, options: HyperParamOptions, stop: Any
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    errors, pending = 0, list(children)
    with ThreadPoolExecutor(options.parallel_runs) as pool:
        running: set[Future[dict[str, Any]]] = set()
        halted = False
        while pending or running:
            while pending and not halted and len(running) < options.parallel_runs:
                running.add(pool.submit(place, pending.pop(0)))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                doc = future.result()
                docs.append(doc)
                errors += doc.get("status", {}).get("state") == "error"
                halted = halted or _should_stop(doc, errors, options, stop)
    return sorted(docs, key=lambda d: d["metadata"]["iteration"])


def _finish(
    parent: RunContext, docs: list[dict[str, Any]], options: HyperParamOptions
) -> dict[str, Any]:
    results = [
        (d["metadata"]["iteration"], d.get("status", {}).get("results", {}))
        for d in docs
        if d.get("status", {}).get("state") == "completed"
    ]
    best = best_iteration(results, options.selector) if options.selector else 0
    missing = _selector_error(results, options.selector) if options.selector and not best else ""
    by_iter = {d["metadata"]["iteration"]: d for d in docs}
    if best:  # as MLRun: best_iteration beside the best child's results
        parent.results = {"best_iteration": best, **by_iter[best]["status"].get("results", {})}
        parent.artifact_uris = dict(by_iter[best]["status"].get("artifact_uris", {}))
    failed = iteration_errors(docs)
    errors = len(failed)
    table = iterations_table(docs)
    parent.status_extra.update(iterations=table, best_iteration=best)  # keeps trace_id
    if failed:  # what each failed iteration said, its traceback without fnrun's frames
        parent.status_extra["iteration_errors"] = failed
    _log_table(parent, table)
    if errors > options.max_errors or not results:
        parent.state = "error"
        parent.error = (
            f"{errors} of {len(docs)} iterations failed (max_errors={options.max_errors})"
        )
    elif missing:
        parent.state, parent.error = "error", missing
    elif errors:  # completed, and says so: not every iteration did
        parent.status_extra["status_text"] = f"completed, {errors} of {len(docs)} iterations failed"
    parent.commit(completed=True)
    return parent.to_dict()


def _selector_error(results: list[tuple[int, dict[str, Any]]], selector: str) -> str:
    """Why the selector picked nothing: no completed iteration logged a number under its key
    (never a silent best iteration 0 with empty outputs)."""
    if not results:
        return ""
    _, key = parse_selector(selector)
    logged = sorted({k for _, values in results for k in values})
    return (
        f"selector {selector!r}: no iteration logged a numeric result {key!r}; results: "
        f"{', '.join(logged) or 'none'} (log it with context.log_result, or name it in "
        "returns=)"
    )


def _log_table(parent: RunContext, table: list[list[Any]]) -> None:
    """The iterations table as the parent's ``iteration_results`` artifact (a CSV, as
    MLRun's), so ``run.outputs["iteration_results"]`` finds it."""
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows(table)
    parent.log_artifact("iteration_results", body=out.getvalue(), format="csv")


def iteration_errors(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{iter, error, traceback}]`` of the iterations that failed: the error's first line,
    the traceback from the user's code on (fnrun's own frames left out)."""
    out = []
    for d in docs:
        status = d.get("status", {})
        if status.get("state") != "error":
            continue
        out.append(
            {
                "iter": d["metadata"]["iteration"],
                "error": first_line(status.get("error", "")),
                "traceback": user_traceback(str(status.get("traceback", "") or "")),
            }
        )
    return out


def iterations_table(docs: list[dict[str, Any]]) -> list[list[Any]]:
    """``[header, *rows]``: iter, state, ``param.<k>`` and ``output.<k>`` columns."""
    params = sorted({k for d in docs for k in d.get("spec", {}).get("parameters", {})})
    outputs = sorted({k for d in docs for k in d.get("status", {}).get("results", {})})
    table: list[list[Any]] = [
        ["iter", "state", *(f"param.{p}" for p in params), *(f"output.{o}" for o in outputs)]
    ]
    for d in docs:
        spec, status = d.get("spec", {}), d.get("status", {})
        table.append(
            [
                d["metadata"]["iteration"],
                status.get("state", ""),
                *(spec.get("parameters", {}).get(p) for p in params),
                *(status.get("results", {}).get(o) for o in outputs),
            ]
        )
    return table


def _options_doc(options: HyperParamOptions) -> dict[str, Any]:
    doc = dataclasses.asdict(options)
    doc.pop("extra", None)
    return {k: v for k, v in doc.items() if v not in ("", None)}
