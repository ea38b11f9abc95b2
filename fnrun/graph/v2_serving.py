"""V2ModelServer: the base class of model steps (MLRun's model-server contract).

Subclass it, set ``self.model`` in ``load()`` and answer rows in ``predict(request)``::

    class MyModel(V2ModelServer):
        def load(self):
            path, _ = self.get_model(".pkl")
            self.model = pickle.load(open(path, "rb"))

        def predict(self, request):
            return self.model.predict(request["inputs"]).tolist()

Operations come from the path (``/v2/models/<name>[/versions/<v>]/<op>``) or, for stream
events, from ``body["operation"]``: ``infer``/``predict``, ``infer_dict``/``predict_dict``
(rows as dicts, put in the order of the model's input schema), ``explain``, ``ready``, metadata
(``GET`` with no operation), and any ``op_<name>`` method. ``input_path``/``result_path`` take
the request from, and put the answer at, a path of the event body (as MLRun's);
``logged_results()`` decides what model tracking records.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from fnrun.artifacts.model import get_model, read_model_spec
from fnrun.errors import InvalidArgumentError
from fnrun.graph import protocol
from fnrun.model.step_objects import StepToDict
from fnrun.model.values import to_plain

_BUILTIN_OPS = ("infer", "predict", "explain", "ready", "")
_DICT_OPS = ("infer_dict", "predict_dict")


class ModelNotReady(InvalidArgumentError):
    """The model is still loading (HTTP 408 at the edge)."""

    http_status = 408


class ModelLoadError(InvalidArgumentError):
    """``load()`` failed (HTTP 503 at the edge): the model cannot answer."""

    http_status = 503


class V2ModelServer(StepToDict):
    step_class_name = "mlrun.serving.v2_serving.V2ModelServer"
    step_args_always = ("protocol",)

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        model_path: str | None = None,
        model: Any = None,
        protocol: str = "",
        input_path: str = "",
        result_path: str = "",
        load_mode: str = "",
        load_timeout: float = 600.0,
        max_batch_size: int = 0,
        max_wait_ms: float = 5.0,
        **class_args: Any,
    ) -> None:
        self.context = context
        key = name or "model"
        self.name, _, self.version = key.partition(":")
        self.model_path = model_path
        self.model = model
        self.protocol = protocol or "v2"
        self.class_args = class_args
        self.ready = model is not None
        self.metrics: dict[str, Any] = {}
        self.labels: dict[str, str] = dict(class_args.get("labels") or {})
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        if load_mode not in ("", "sync", "async"):
            raise InvalidArgumentError(
                f"unknown load_mode {load_mode!r}", field="load_mode", hint="use sync or async"
            )
        self.load_mode = load_mode
        self.load_timeout = load_timeout
        self._loaded = threading.Event()
        self._load_error: BaseException | None = None
        self.tracker: Any = None
        self.max_batch_size = int(max_batch_size or 0)
        self.max_wait_ms = float(max_wait_ms)
        # The async engine calls this instead of do_event (None: do_event serves every engine).
        self.async_do_event: Any = self._batched_event if self.max_batch_size > 1 else None
        self._batcher: Any = None
        self.input_path = input_path
        self.result_path = result_path

    # -- lifecycle -------------------------------------------------------------------------
    def post_init(self, mode: str = "sync") -> None:
        """Load the model: now, or in a background thread when the load mode is async (the
        model's own ``load_mode``, else the server's)."""
        from fnrun.graph.tracking import tracker_for

        self.tracker = tracker_for(self)
        if self.ready:
            self._loaded.set()
            return
        if (self.load_mode or mode) == "async":
            threading.Thread(target=self._load, name=f"load-{self.name}", daemon=True).start()
        else:
            self._load()
            if self._load_error is not None:
                raise self._load_error

    def close(self) -> None:
        """At shutdown: send what tracking still holds."""
        if self.tracker is not None:
            self.tracker.flush()

    def _load(self) -> None:
        try:
            self.load()
            self.ready = True
        except Exception as exc:
            self._load_error = exc
            logger = getattr(self.context, "logger", None)
            if logger is not None:
                logger.error(f"model {self.name!r} failed to load: {exc}")
        finally:
            self._loaded.set()

    def _check_ready(self, event: Any, wait: bool) -> None:
        """Raise while the model cannot answer; stream events wait for a background load."""
        if self.ready:
            return
        if wait and _is_stream(event):
            self._loaded.wait(self.load_timeout)
        if self._load_error is not None:
            raise ModelLoadError(
                f"model {self.name!r} failed to load: {self._load_error}",
                field="model_path",
                hint="fix the model or its load(); the server log has the details",
            )
        if not self.ready:
            raise ModelNotReady(f"model {self.name!r} is still loading", field="ready")

    def load(self) -> None:
        """Load ``self.model`` (override); ``get_model()`` finds the file."""

    def get_param(self, key: str, default: Any = None) -> Any:
        """A ``class_args`` value, else the server parameter, else ``default``."""
        if key in self.class_args:
            return self.class_args[key]
        getter = getattr(self.context, "get_param", None)
        return getter(key, default) if getter else default

    def get_model(self, suffix: str = "") -> tuple[str, dict[str, Any]]:
        """(local model file, extra data as DataItems by name), as MLRun's. ``model_path`` may
        be a file, a folder (with ``model_spec.yaml``), a URL, or a ``store://models/...``
        artifact; its metrics and input/output schema are kept on the server."""
        if not self.model_path:
            raise InvalidArgumentError(
                f"model {self.name!r} has no model_path",
                field="model_path",
                hint="fn.add_model(key, model_path=...)",
            )

        path, artifact, extra = get_model(self.model_path, suffix)
        spec = dict(artifact.get("spec", {})) if artifact else read_model_spec(Path(path).parent)
        self.metrics = dict(spec.get("metrics") or {})
        self.inputs = list(spec.get("inputs") or self.inputs)
        self.outputs = list(spec.get("outputs") or self.outputs)
        return path, extra

    # -- the request path --------------------------------------------------------------------
    def do_event(self, event: Any, *args: Any) -> Any:
        if not self.input_path and not self.result_path:
            return self._do_event(event)
        from fnrun.graph.event import get_path, set_path

        whole = event.body
        if self.input_path:
            event.body = get_path(whole, self.input_path)
        out = self._do_event(event)
        if self.result_path and out is not None:
            out.body = set_path(whole, self.result_path, out.body)
        return out

    def _do_event(self, event: Any) -> Any:
        operation = operation_of(event)
        if operation == "ready":
            self._check_ready(event, wait=False)
            from fnrun.graph.context import Response

            text = f"Model {self.name} is ready (event_id = {event.id})"  # MLRun's words
            event.body = Response(body=text.encode(), content_type="text/plain", status_code=200)
            return event
        if operation == "" and _asks(event):
            event.body = self.metadata()
            return event
        if not self.ready:
            self._check_ready(event, wait=True)
        if operation in ("infer", "predict", ""):
            event.body = self._infer(event, "infer")
            return event
        if operation == "explain":
            event.body = self._infer(event, "explain")
            return event
        if operation in _DICT_OPS:
            event.body = self._rows_from_dicts(event.body)
            event.body = self._infer(event, "infer")
            return event
        handler = getattr(self, f"op_{operation}", None)
        if not callable(handler):
            ops = [o for o in ("infer", "predict", "explain", "ready")] + [
                m[3:] for m in dir(self) if m.startswith("op_")
            ]
            raise InvalidArgumentError(
                f"model {self.name!r} has no operation {operation!r}",
                field="path",
                hint=f"operations: {', '.join(ops)}",
            )
        result = handler(event)
        if result is not None and not hasattr(result, "body"):
            event.body = result
        return event

    def _infer(self, event: Any, operation: str) -> Any:
        start = time.perf_counter()
        request, tensor = self._request(event, operation)
        try:
            outputs = self.predict(request) if operation == "infer" else self.explain(request)
        except Exception as exc:
            self._track_error(event, request, operation, exc, start)
            raise
        return self._respond(event, request, operation, _plain(outputs), tensor, start)

    def _request(self, event: Any, operation: str) -> tuple[dict[str, Any], bool]:
        body = event.body if type(event.body) is dict else {"inputs": event.body}
        inputs = body.get("inputs")
        tensor = type(inputs) is list and bool(inputs) and protocol.is_tensor_request(body)
        if tensor:
            protocol.check_tensors(body["inputs"])
        request = (
            {**body, "inputs": protocol.rows_from_tensor(body["inputs"][0])} if tensor else body
        )
        request = self.preprocess(request, operation)
        self.validate(request, operation)
        return request, tensor

    def _respond(
        self,
        event: Any,
        request: dict[str, Any],
        operation: str,
        outputs: Any,
        tensor: bool,
        start: float,
    ) -> Any:
        result = self.postprocess(
            protocol.response(event.id, self.name, self.version, outputs, tensor)
        )
        tracker = self.tracker
        if tracker is not None and tracker.wants(event.id):
            inputs, logged = self.logged_results(request, result, operation)
            if inputs is None and logged is None:
                inputs, logged = request.get("inputs"), result.get("outputs")
            seconds = time.perf_counter() - start
            tracker.record(event.id, operation, inputs, logged, seconds)
        return result

    def _track_error(
        self, event: Any, request: Any, operation: str, exc: BaseException, start: float
    ) -> None:
        tracker = self.tracker
        if tracker is not None:  # a failure is always recorded, whatever the sample
            inputs = request.get("inputs") if isinstance(request, dict) else request
            tracker.error(event.id, operation, inputs, exc, time.perf_counter() - start)

    async def _batched_event(self, event: Any) -> Any:
        """``do_event`` on the async engine: infer requests join a batch; the rest pass."""
        operation = operation_of(event)
        if operation not in ("infer", "predict", "") or (operation == "" and _asks(event)):
            return self.do_event(event)
        if not self.ready:
            self._check_ready(event, wait=True)
        start = time.perf_counter()
        request, tensor = self._request(event, "infer")
        if self._batcher is None:
            from fnrun.graph.batching import Batcher

            self._batcher = Batcher(self.predict, self.max_batch_size, self.max_wait_ms, self.name)
        try:
            outputs = await self._batcher.submit(request)
        except Exception as exc:
            self._track_error(event, request, "infer", exc, start)
            raise
        event.body = self._respond(event, request, "infer", outputs, tensor, start)
        return event

    def metadata(self) -> dict[str, Any]:
        """The model's metadata (MLRun's keys; metrics are in ``self.metrics``)."""
        return {
            "name": self.name,
            "version": self.version,
            "inputs": self.inputs,
            "outputs": self.outputs,
        }

    def _rows_from_dicts(self, body: Any) -> dict[str, Any]:
        """``{"inputs": [{feature: value}, ...]}`` as rows in the input schema's order; one
        ``{feature: value}`` (MLRun's single-row form) as one flat row, as ``infer`` takes it."""
        rows = body.get("inputs") if isinstance(body, dict) else None
        single = isinstance(rows, dict)
        if single:
            rows = [rows]
        names = [str(f.get("name", "")) for f in self.inputs if isinstance(f, dict)]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidArgumentError(
                "infer_dict needs 'inputs' as a list of {feature: value} rows",
                field="inputs",
                hint='send {"inputs": [{"f1": 1, "f2": 2}]}',
            )
        if not names:
            raise InvalidArgumentError(
                f"model {self.name!r} has no input schema to order dict rows by",
                field="inputs",
                hint="log the model with inputs= (feature names), or send rows as lists to infer",
            )
        missing = sorted({n for r in rows for n in names if n not in r})
        if missing:
            raise InvalidArgumentError(
                f"rows lack features {missing}", field="inputs", hint=f"features: {names}"
            )
        ordered = [[row[n] for n in names] for row in rows]
        return {**body, "inputs": ordered[0] if single else ordered}

    # -- hooks ---------------------------------------------------------------------------------
    def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        return request

    def validate(self, request: dict[str, Any], operation: str) -> None:
        inputs = request.get("inputs")
        if not isinstance(inputs, list):
            raise InvalidArgumentError(
                "the request needs an 'inputs' list",
                field="inputs",
                hint='send {"inputs": [[...], ...]} or OIP tensors',
            )

    def predict(self, request: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.predict() is not implemented")

    def explain(self, request: dict[str, Any]) -> Any:
        raise InvalidArgumentError(
            f"model {self.name!r} does not explain",
            field="path",
            hint="implement explain() in the model class",
        )

    def postprocess(self, response: dict[str, Any]) -> dict[str, Any]:
        return response

    def logged_results(
        self, request: dict[str, Any], response: dict[str, Any], operation: str
    ) -> tuple[list[Any] | None, list[Any] | None]:
        """What model tracking records (override): ``(inputs, outputs)`` lists to record
        instead of the request's inputs and the response's outputs; ``(None, None)`` (the
        default) records them as they are."""
        return None, None


def operation_of(event: Any) -> str:
    """``infer`` from ``/v2/models/m/infer`` or ``/v2/models/m/versions/1/infer``; stream events
    may name it in ``body["operation"]``."""
    path = event.path or "/"
    known = _PATH_OPS.get(path)
    if known is not None:
        return known
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "v2" and parts[1] == "models":
        # /v2/models/infer: the operation of the default model (or of an ensemble, which
        # hands the same path to each of its models)
        rest = parts[2:] if len(parts) == 3 and parts[2] in _BUILTIN_OPS else parts[3:]
        if len(rest) >= 2 and rest[0] == "versions":
            rest = rest[2:]
        operation = rest[0] if rest else ""
        if len(_PATH_OPS) < _PATH_CACHE_SIZE:
            _PATH_OPS[path] = operation  # the path alone decides: remember it
        return operation
    if isinstance(event.body, dict) and "operation" in event.body:
        return str(event.body["operation"])
    return parts[-1] if parts and parts[-1] in _BUILTIN_OPS else ("infer" if event.body else "")


def _asks(event: Any) -> bool:
    """A GET, or an event without a method and without a body (as MLRun: a method-less event
    with a body infers)."""
    method = event.method
    return method == "GET" or (not method and not event.body)


_PATH_CACHE_SIZE = 4096
_PATH_OPS: dict[str, str] = {}


def _is_stream(event: Any) -> bool:
    """An event from a stream trigger (Kafka, a queue) rather than an HTTP request."""
    trigger = getattr(event, "trigger", None)
    kind = trigger.get("kind", "") if isinstance(trigger, dict) else getattr(trigger, "kind", "")
    return bool(kind) and kind != "http"


_plain = to_plain
