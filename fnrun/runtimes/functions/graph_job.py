"""A serving graph as a batch job: ``job = srv.to_job()`` (MLRun's verb), then
``job.run(inputs={"data": ...})``.

The job is a function of a batch kind (``job`` by default; ``local``, ``dask``, ``spark``)
named ``<serving name>-batch`` (MLRun's rule, so the serving function's document is never
overwritten). It carries the serving function's code and build as its own and the rest of the
serving function's document in ``spec.serving_spec``; its handler, :func:`execute_graph`,
builds the same ``GraphServer`` the mock and ``fnrun serve`` build (``graph_server_for``) and
pushes each row through it (:mod:`fnrun.graph.rows`), so the same graph gives the same answers
wherever it runs. The answers are logged as one dataset artifact (rows in the input order, an
``error`` column for rows whose event failed, nothing dropped).

On the dask kind the rows go to the cluster's workers in partitions, on the spark kind to the
session's executors; each process builds the server once per serving document and reuses it.
Unlike MLRun, a graph spread over child functions runs as a job too: every step runs in the
job's process and queue steps pass events straight on (their streams are not written).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.rows import (
    ERROR_COLUMN,
    Outcome,
    bodies_of,
    per_model,
    per_row,
    record_of,
    serve_all,
)
from fnrun.model.function_like import maker
from fnrun.runtimes.functions.registry import get_runtime_class
from fnrun.runtimes.functions.serving import graph_server_for

if TYPE_CHECKING:
    from fnrun.runtimes.functions.base import BaseRuntime

BATCH_SUFFIX = "-batch"  # MLRun's reserved batch-job suffix
HANDLER = "fnrun.runtimes.functions.graph_job.execute_graph"
JOB_KINDS = ("job", "local", "dask", "spark")
_SERVING_ONLY = ("replicas", "min_replicas", "max_replicas", "default_handler", "serving_spec")
MAX_NAME = 63  # a Kubernetes label


class GraphJobMixin:
    """``to_job`` for serving functions."""

    spec: Any
    metadata: Any

    def to_job(self, func_name: str | None = None, kind: str = "job") -> BaseRuntime:
        """The graph as a batch job: a ``kind`` function (``job``, ``local``, ``dask``,
        ``spark``) named ``func_name`` or ``<name>-batch``. Run it with
        ``inputs={"data": <csv/parquet/DataItem>}`` and params ``batch_size`` (rows per event,
        default 1), ``output_key`` (the dataset's key, default ``prediction``, MLRun's),
        ``concurrency`` (events in flight on the async engine) and ``partitions`` (dask and
        spark); or ``data_object={...}`` for one event whose answer is the run's return."""
        return to_job(self, func_name, kind)


def to_job(srv: Any, func_name: str | None = None, kind: str = "job") -> BaseRuntime:
    if kind not in JOB_KINDS:
        raise InvalidArgumentError(
            f"to_job(kind={kind!r}): not a batch kind that runs a graph",
            field="kind",
            hint=f"use one of {', '.join(JOB_KINDS)}",
        )
    if srv.spec.graph is None:
        raise InvalidArgumentError(
            f"function {srv.metadata.name!r} has no graph to run as a job",
            field="spec.graph",
            hint="call fn.set_topology('flow') or ('router') and add steps first",
        )
    cls = get_runtime_class(kind)
    known = set(cls.spec_class.keys())
    serving_doc = srv.to_dict()
    spec_doc = serving_doc.get("spec", {})
    job_spec = {
        k: copy.deepcopy(v) for k, v in spec_doc.items() if k in known and k not in _SERVING_ONLY
    }
    job_spec["default_handler"] = HANDLER
    inner = {**serving_doc, "spec": {k: v for k, v in spec_doc.items() if k != "build"}}
    inner.pop("status", None)
    job_spec["serving_spec"] = inner
    metadata = {k: v for k, v in serving_doc.get("metadata", {}).items() if k != "hash"}
    metadata["name"] = _job_name(srv.metadata.name, func_name)
    return cls.from_dict({"kind": kind, "metadata": metadata, "spec": job_spec})


def _job_name(name: str, func_name: str | None) -> str:
    if func_name:
        return str(func_name)
    if not name or name.endswith(BATCH_SUFFIX):
        return name
    job = f"{name}{BATCH_SUFFIX}"
    if len(job) > MAX_NAME:
        raise InvalidArgumentError(
            f"the job's name {job!r} is {len(job)} characters, over Kubernetes' {MAX_NAME}",
            field="func_name",
            hint=f"pass to_job(func_name=...) with at most {MAX_NAME} characters",
        )
    return job


# -- the handler ----------------------------------------------------------------------------


def execute_graph(
    context: Any,
    data: Any = None,
    data_object: dict[str, Any] | None = None,
    batch_size: int | None = None,
    batching: bool = False,
    output_key: str = "prediction",
    read_as_lists: bool = False,
    nest_under_inputs: bool = False,
    concurrency: int = 16,
    partitions: int = 0,
    timestamp_column: str | None = None,
) -> Any:
    """Push every row of ``data`` (or the one ``data_object``) through the job's serving
    graph; log the answers as the dataset ``output_key`` (and, for answers keyed by model,
    one ``<output_key>_<model>`` each, as MLRun) and the results ``num_rows`` and
    ``num_errors``. ``batching`` without ``batch_size`` (MLRun's) sends every row in one
    event; ``read_as_lists`` sends a row as a list of its values."""
    doc = _serving_doc(context)
    if (data is None) == (data_object is None):
        raise InvalidArgumentError(
            "give exactly one of the input 'data' (a dataset) or the param 'data_object'",
            field="inputs.data",
            hint="job.run(inputs={'data': 'rows.csv'}) or job.run(params={'data_object': {...}})",
        )
    if timestamp_column:
        context.logger.info(
            "timestamp_column=%r is for model monitoring, which this job does not feed; the "
            "rows keep their input order",
            timestamp_column,
        )
    if data_object is not None:
        if not isinstance(data_object, dict):
            raise InvalidArgumentError(
                f"data_object must be a mapping, got {type(data_object).__name__}",
                field="params.data_object",
            )
        body: Any = list(data_object.values()) if read_as_lists else data_object
        (outcome,) = serve_rows(doc, [{"inputs": body} if nest_under_inputs else body], 1)
        context.log_result("num_rows", 1)
        if outcome.error:
            raise RuntimeError(f"the graph failed on data_object: {outcome.error}")
        return outcome.value
    if not hasattr(data, "as_df"):
        raise InvalidArgumentError(
            f"'data' must be an input (a dataset), got the {type(data).__name__} {data!r}",
            field="params.data",
            hint="pass the dataset in inputs={'data': ...}, not in params",
        )
    df = data.as_df()
    size = _batch_size(batch_size, batching, len(df))
    batched = batching or size > 1
    rows = df.values.tolist() if read_as_lists else df.to_dict("records")
    batches = bodies_of(rows, size, nest_under_inputs, batched)
    outcomes = _serve(context, doc, [b for b, _ in batches], concurrency, partitions)
    placed = per_row(outcomes, [n for _, n in batches], batched)
    errors = sum(1 for _, o in placed if o.error)
    _log_answers(context, df, placed, output_key)
    context.log_result("num_rows", len(df))
    context.log_result("num_errors", errors)
    if errors:
        context.logger.warning(
            "%d of %d events failed: see the %r column", errors, len(placed), ERROR_COLUMN
        )
    return None


def _serving_doc(context: Any) -> dict[str, Any]:
    fn = getattr(context, "function", None)
    doc = getattr(getattr(fn, "spec", None), "serving_spec", None)
    if not doc:
        raise InvalidArgumentError(
            "execute_graph runs the graph of a job made by srv.to_job()",
            field="spec.serving_spec",
            hint="job = serving_fn.to_job(); job.run(inputs={'data': ...})",
        )
    if isinstance(doc, str):  # MLRun's serving spec JSON: {graph, parameters, ...}
        doc = json.loads(doc)
    if "spec" not in doc:  # MLRun's form: the serving spec itself
        doc = {"kind": "serving", "metadata": {}, "spec": doc}
    build = fn.spec.build.to_dict() if fn is not None else {}
    return {**doc, "spec": {**doc["spec"], "build": build}}


def _batch_size(batch_size: int | None, batching: bool, rows: int) -> int:
    if batch_size is None:
        return max(rows, 1) if batching else 1
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InvalidArgumentError(
            f"batch_size must be a positive int, got {batch_size!r}", field="params.batch_size"
        )
    return batch_size


def _serve(
    context: Any, doc: dict[str, Any], bodies: list[Any], concurrency: int, partitions: int
) -> list[Outcome]:
    client = getattr(context, "dask_client", None)
    session = getattr(context, "spark_session", None)
    if client is None and session is None:
        return serve_rows(doc, bodies, concurrency)
    count = partitions or _default_partitions(client, session)
    parts = _split(bodies, count)
    if client is not None:
        futures = client.map(
            serve_partition, [doc] * len(parts), parts, [concurrency] * len(parts), pure=False
        )
        answers = client.gather(futures)
    else:
        answers = _on_spark(session, doc, parts, concurrency)
    return [Outcome(*pair) for part in answers for pair in part]


def _default_partitions(client: Any, session: Any) -> int:
    if client is not None:
        workers = client.scheduler_info().get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
    return max(1, int(session.sparkContext.defaultParallelism))


def _split(items: list[Any], count: int) -> list[list[Any]]:
    count = max(1, min(count, len(items)))
    step, extra = divmod(len(items), count)
    parts, start = [], 0
    for i in range(count):
        end = start + step + (1 if i < extra else 0)
        parts.append(items[start:end])
        start = end
    return parts


def _on_spark(session: Any, doc: dict[str, Any], parts: list[list[Any]], concurrency: int) -> Any:
    rdd = session.sparkContext.parallelize(list(enumerate(parts)), len(parts))
    done = rdd.map(lambda part: (part[0], serve_partition(doc, part[1], concurrency))).collect()
    return [answers for _, answers in sorted(done, key=lambda pair: pair[0])]


def _log_answers(context: Any, df: Any, placed: list[tuple[int, Outcome]], output_key: str) -> None:
    import pandas as pd

    positions = [row for row, _ in placed]
    index = df.index if positions == list(range(len(df))) else df.index[positions]
    frame = pd.DataFrame([record_of(o) for _, o in placed], index=index)
    frame = frame[[c for c in frame.columns if c != ERROR_COLUMN] + [ERROR_COLUMN]]
    context.log_dataset(output_key, df=frame)
    for model, pairs in per_model([o for _, o in placed]).items():
        context.log_dataset(
            f"{output_key}_{model}",
            df=pd.DataFrame([a for _, a in pairs], index=index[[p for p, _ in pairs]]),
        )


# -- where the graph runs -----------------------------------------------------------------

_KEPT = 4  # servers a worker keeps (one per serving document; the oldest is closed)
_servers: dict[str, Any] = {}
_servers_lock = threading.Lock()


def serve_rows(
    doc: dict[str, Any], bodies: list[Any], concurrency: int = 16, keep: bool = False
) -> list[Outcome]:
    """The bodies through the graph of serving document ``doc`` in this process: a server of
    its own, closed after (``keep``: one kept per document for the next partition)."""
    server = _kept_server(doc) if keep else _build(doc)
    try:
        return serve_all(server, bodies, concurrency)
    finally:
        server.drain()  # storey steps hand on what they hold
        if not keep:
            server.close()


def serve_partition(
    doc: dict[str, Any], bodies: list[Any], concurrency: int = 16
) -> list[tuple[Any, str]]:
    """On a Dask worker or Spark executor: one partition's (value, error) pairs."""
    return [(o.value, o.error) for o in serve_rows(doc, bodies, concurrency, keep=True)]


def _build(doc: dict[str, Any]) -> Any:
    fn = maker("function_from_dict")(copy.deepcopy(doc))
    return graph_server_for(fn, current_function="*")


def _kept_server(doc: dict[str, Any]) -> Any:
    key = hashlib.sha1(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            while len(_servers) >= _KEPT:
                _servers.pop(next(iter(_servers))).close()
            server = _servers[key] = _build(doc)
        return server
