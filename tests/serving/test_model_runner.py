"""``ModelRunnerStep`` (MLRun's several-models step): answers as MLRun's for one and several
models, each execution mechanism really running where it says (threads overlap, processes
are other processes, asyncio awaited), errors gathered per model, selectors choosing models
and the steps after, MLRun's serialization, on both engines, in the mock and over HTTP."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.mock.server import MockRequestError
from fnrun.serving import Model, ModelRunnerSelector, ModelRunnerStep, ModelSelector


class Scale(Model):
    def __init__(self, factor: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def predict(self, body: Any, **kwargs: Any) -> Any:
        return {"y": [x * self.factor for x in body["inputs"]]}


class SleepyThread(Model):
    def predict(self, body: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return {"thread": threading.current_thread().name}


class SleepyAsync(Model):
    async def predict_async(self, body: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)
        return {"sum": sum(body["inputs"])}


class Where(Model):
    def load(self) -> None:
        super().load()
        self.loaded_in = os.getpid()

    def predict(self, body: Any, **kwargs: Any) -> Any:
        return {"pid": os.getpid(), "loaded_in": self.loaded_in}


class Boom(Model):
    def predict(self, body: Any, **kwargs: Any) -> Any:
        raise ValueError("bad input")


class NoPredict(Model):
    pass


class Pick(ModelRunnerSelector):
    def select_models(self, event: Any, available_models: list[Model]) -> list[Any] | None:
        return event.body.get("use")

    def select_outlets(self, event: Any) -> list[str] | None:
        return ["big"] if max(v for r in event.values() for v in r["y"]) > 10 else ["small"]


class OldPick(ModelSelector):
    def select(self, event: Any, available_models: list[Model]) -> list[Any] | None:
        return [m for m in available_models if m.name == event.body["use"]]


SEEN: list[str] = []


def tag(name: str) -> Any:
    def step(body: Any) -> Any:
        SEEN.append(name)
        return {"went": name, "body": body}

    step.__name__ = f"to_{name}"
    return step


to_big, to_small = tag("big"), tag("small")
BODY = {"inputs": [1, 2]}


def _serve(build: Any, engine: str = "async") -> Any:
    fn = fnrun.new_function("mr", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    step = ModelRunnerStep(name="runner")
    build(step)
    graph.to(step).respond()
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ["async", "sync"])
def test_one_model_answers_its_result_several_a_dict_by_name(engine: str) -> None:
    server = _serve(
        lambda s: s.add_model("m1", model_class="Scale", execution_mechanism="naive", factor=3),
        engine,
    )
    assert server.test("/", BODY) == {"y": [3, 6]}

    def several(s: ModelRunnerStep) -> None:
        s.add_model("m1", model_class="Scale", execution_mechanism="naive")
        s.add_model("m2", model_class=Scale(name="m2", factor=10), execution_mechanism="naive")
        s.add_model("m3", model_class="SleepyAsync", execution_mechanism="asyncio")

    assert _serve(several, engine).test("/", BODY) == {
        "m1": {"y": [2, 4]},
        "m2": {"y": [10, 20]},
        "m3": {"sum": 3},
    }


@pytest.mark.parametrize("engine", ["async", "sync"])
def test_models_of_one_event_run_at_once(engine: str) -> None:
    """Two thread-pool models and two asyncio models, 0.3 s each: the answer takes about
    0.3 s, not 1.2 s, and the thread models ran on the step's pool."""

    def build(s: ModelRunnerStep) -> None:
        s.add_model("t1", model_class="SleepyThread", execution_mechanism="thread_pool")
        s.add_model("t2", model_class="SleepyThread", execution_mechanism="thread_pool")
        s.add_model("a1", model_class="SleepyAsync", execution_mechanism="asyncio")
        s.add_model("a2", model_class="SleepyAsync", execution_mechanism="asyncio")

    server = _serve(build, engine)
    start = time.perf_counter()
    out = server.test("/", BODY)
    took = time.perf_counter() - start
    assert took < 0.6, f"models ran one after another: {took:.2f} s"
    assert out["t1"]["thread"].startswith("runner-models") and out["a2"] == {"sum": 3}
    assert out["t1"]["thread"] != out["t2"]["thread"]
    server.wait_for_completion()


def test_process_mechanisms_run_in_other_processes_with_the_loaded_model() -> None:
    def build(s: ModelRunnerStep) -> None:
        s.add_model("pool", model_class="Where", execution_mechanism="process_pool")
        s.add_model("own", model_class="Where", execution_mechanism="dedicated_process")
        s.add_model("here", model_class="Where", execution_mechanism="naive")

    server = _serve(build)
    try:
        out = server.test("/", BODY)
        me = os.getpid()
        assert out["here"]["pid"] == me
        assert out["pool"]["pid"] != me and out["own"]["pid"] != me
        assert out["pool"]["pid"] != out["own"]["pid"]
        assert out["pool"]["loaded_in"] == me == out["own"]["loaded_in"]  # loaded once, inherited
    finally:
        server.wait_for_completion()


def test_a_failing_model_fails_the_request_naming_it_or_reports_in_its_entry() -> None:
    def build(s: ModelRunnerStep) -> None:
        s.add_model("good", model_class="Scale", execution_mechanism="naive")
        s.add_model("bad", model_class="Boom", execution_mechanism="thread_pool")

    with pytest.raises(MockRequestError, match="ModelRunnerError: bad ValueError: bad input") as e:
        _serve(build).test("/", BODY)
    assert "good" not in str(e.value)

    def quiet(s: ModelRunnerStep) -> None:
        build(s)
        s.raise_exception = False

    assert _serve(quiet).test("/", BODY) == {
        "good": {"y": [2, 4]},
        "bad": {"error": "ValueError: bad input"},
    }


def test_a_model_without_the_mechanisms_predict_fails_at_start() -> None:
    with pytest.raises(Exception, match="asyncio execution_mechanism but predict_async"):
        _serve(lambda s: s.add_model("m", model_class="Scale", execution_mechanism="asyncio"))
    with pytest.raises(Exception, match="naive execution_mechanism but predict"):
        _serve(lambda s: s.add_model("m", model_class="NoPredict", execution_mechanism="naive"))


def test_selectors_choose_the_models_and_the_steps_after() -> None:
    fn = fnrun.new_function("mr", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    step = ModelRunnerStep(name="runner", model_runner_selector=Pick())
    step.add_model("m1", model_class="Scale", execution_mechanism="naive")
    step.add_model("m2", model_class="Scale", execution_mechanism="thread_pool", factor=10)
    runner = graph.to(step)
    runner.to(handler="to_big", name="big").respond()
    runner.to(handler="to_small", name="small")
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    # only m2 runs; its answer (> 10) goes only to "big", the responder
    SEEN.clear()
    out = server.test("/", {"inputs": [2], "use": ["m2"]})
    assert out == {"went": "big", "body": {"m2": {"y": [20]}}}
    assert SEEN == ["big"]
    # m1's small answer goes to "small" only: the responder's branch never runs
    assert server.test("/", {"inputs": [1], "use": ["m1"]}) is None
    assert SEEN == ["big", "small"]
    with pytest.raises(MockRequestError, match="not in the step: m9"):
        server.test("/", {"inputs": [1], "use": ["m9"]})

    old = ModelRunnerStep(name="r", model_selector=OldPick())
    old.add_model("m1", model_class="Scale", execution_mechanism="naive")
    old.add_model("m2", model_class="Scale", execution_mechanism="naive", factor=5)
    fn2 = fnrun.new_function("mr2", kind="serving")
    fn2.set_topology("flow").to(old).respond()  # type: ignore[attr-defined]
    server2 = fn2.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert server2.test("/", {"inputs": [1], "use": "m2"}) == {"m2": {"y": [5]}}


def test_serialized_as_mlrun_and_served_from_its_yaml() -> None:
    """The step's dict is MLRun's (checked against MLRun 1.12's ``to_dict`` of the same
    graph, less its model-monitoring keys; a class given as an object is written as its
    import path, where MLRun writes its bare name); loaded back it answers the same."""
    step = ModelRunnerStep(name="runner", model_runner_selector=Pick())
    step.add_model("m1", model_class="Scale", execution_mechanism="naive", factor=3)
    step.add_model(
        "m2",
        model_class=Scale(name="m2", factor=4),
        execution_mechanism="thread_pool",
        inputs=["a"],
        labels={"x": "1"},
    )
    step.configure_pool_resource(max_threads=4)
    doc = step.to_dict()
    assert doc["kind"] == "model_runner" and doc["class_name"] == "mlrun.serving.ModelRunner"
    assert doc["raise_exception"] is True and doc["max_threads"] == 4 and doc["shape"] == "folder"
    args = doc["class_args"]
    assert args["models"] == {
        "m1": ["Scale", {"factor": 3, "artifact_uri": None, "name": "m1"}],
        "m2": [f"{__name__}.Scale", {"factor": 4, "name": "m2", "artifact_uri": None}],
    }
    assert args["execution_mechanism_by_model_name"] == {"m1": "naive", "m2": "thread_pool"}
    assert args["model_runner_selector"] == [f"{__name__}.Pick", {}]
    assert args["model_selector"] == [None, None]
    assert args["monitoring_data"]["m2"] == {
        "inputs": ["a"],
        "outputs": None,
        "input_path": None,
        "result_path": None,
        "creation_strategy": "inplace",
        "labels": {"x": "1"},
        "model_path": None,
        "model_class": f"{__name__}.Scale",
    }

    fn = fnrun.new_function("mr", kind="serving")
    fn.set_topology("flow", engine="async").to(step).respond()  # type: ignore[attr-defined]
    loaded = fnrun.new_function("copy", kind="serving")
    loaded.spec.graph = type(fn.spec.graph).from_dict(
        __import__("yaml").safe_load(__import__("yaml").safe_dump(fn.spec.graph.to_dict()))
    )
    assert isinstance(loaded.spec.graph.steps["runner"], ModelRunnerStep)
    server = loaded.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    out = server.test("/", {"inputs": [1, 2]})
    assert out == {"m1": {"y": [3, 6]}, "m2": {"y": [4, 8]}}


def test_add_model_refuses_what_mlrun_refuses() -> None:
    step = ModelRunnerStep(name="r")
    step.add_model("m1", model_class="Scale", execution_mechanism="naive")
    with pytest.raises(InvalidArgumentError, match="m1 already exists"):
        step.add_model("m1", model_class="Scale", execution_mechanism="naive")
    step.add_model("m1", model_class="Scale", execution_mechanism="naive", override=True, factor=9)
    assert step.models["m1"][1]["factor"] == 9
    with pytest.raises(InvalidArgumentError, match="'gpu' is invalid"):
        step.add_model("m2", model_class="Scale", execution_mechanism="gpu")
    with pytest.raises(InvalidArgumentError, match="Inconsistent name"):
        step.add_model("m3", model_class=Scale(name="other"), execution_mechanism="naive")
    with pytest.raises(InvalidArgumentError, match="also provide `model_parameters`"):
        step.add_model("m4", model_class=Scale(name="m4"), execution_mechanism="naive", factor=1)
    with pytest.raises(InvalidArgumentError, match="shared_executor"):
        step.add_model("m5", model_class="Scale", execution_mechanism="shared_executor")
    assert ModelRunnerStep(name="x", after="other").after == ["other"]  # one name, as MLRun
    with pytest.raises(InvalidArgumentError, match="Cannot provide both"):
        ModelRunnerStep(name="x", model_selector=OldPick(), model_runner_selector=Pick())
    step.add_model(
        "m6",
        model_class="Scale",
        execution_mechanism="naive",
        model_artifact="store://models/p/key:latest",
    )
    assert step.models["m6"][1]["artifact_uri"] == "store://models/p/key"


MODELS_CODE = """
import os
from fnrun.serving import Model

class Scale(Model):
    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def predict(self, body, **kwargs):
        return {"y": [x * self.factor for x in body["inputs"]], "pid": os.getpid()}
"""


def test_over_http_in_a_deployed_server(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="uvicorn (fnrun[serve]) not installed")
    code = tmp_path / "models.py"
    code.write_text(MODELS_CODE)
    fn = fnrun.code_to_function("runner", filename=str(code), kind="serving", project="mr")
    step = ModelRunnerStep(name="runner")
    step.add_model("a", model_class="Scale", execution_mechanism="process_pool")
    step.add_model("b", model_class="Scale", execution_mechanism="thread_pool", factor=5)
    fn.set_topology("flow", engine="async").to(step).respond()  # type: ignore[attr-defined]
    fn.deploy()  # type: ignore[attr-defined]
    try:
        out = fn.invoke("/", {"inputs": [1, 2]})  # type: ignore[attr-defined]
        assert out["a"]["y"] == [2, 4] and out["b"]["y"] == [5, 10]
        assert out["a"]["pid"] != out["b"]["pid"]  # the pool model answered from its process
    finally:
        fn.stop()  # type: ignore[attr-defined]


class Inc(Model):
    """MLRun's test model: adds ``inc`` to ``n`` (it mutates its input, so each model of a
    step must get its own copy)."""

    def __init__(self, inc: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inc = inc

    def predict(self, body: Any) -> Any:
        body["n"] += self.inc
        return body

    def do(self, body: Any) -> Any:
        return self.predict(body)


def test_model_names_are_unique_in_a_graph_and_listed() -> None:
    from fnrun.serving import RouterStep
    from fnrun.serving.states import GraphError

    fn = fnrun.new_function("names", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    first = ModelRunnerStep(name="r0")
    first.add_model("m", model_class="Inc", execution_mechanism="naive", inc=1)
    second = ModelRunnerStep(name="r1")
    second.add_model("m", model_class="Inc", execution_mechanism="naive", inc=2)
    graph.to(first)
    with pytest.raises(GraphError, match="'m' is already used by step 'r0'"):
        graph.to(second)
    assert list(graph.steps) == ["r0"]
    first.add_model("m", model_class="Inc", execution_mechanism="naive", inc=3, override=True)

    router = graph.to(RouterStep(), name="router")
    with pytest.raises(GraphError, match="'m' is already used by step 'r0'"):
        fn.add_model("m", ".", class_name="Inc", inc=1)  # type: ignore[attr-defined]
    router.add_route("route1", class_name="Inc", inc=1)
    third = ModelRunnerStep(name="r2")
    third.add_model("route1", model_class="Inc", execution_mechanism="naive", inc=1)
    with pytest.raises(GraphError, match="'route1' is already used by step 'router'"):
        graph.to(third)
    with pytest.raises(GraphError, match="'route1' is already used by step 'router'"):
        first.add_model("route1", model_class="Inc", execution_mechanism="naive", inc=1)
    assert graph.model_endpoints_names == ["m"]
    assert graph.model_endpoints_routes_names == ["route1"]


def test_each_model_gets_its_own_copy_and_its_own_mechanism() -> None:
    """MLRun's ``test_model_runner_with_gpu_allocation`` shape: model objects made with
    their own settings, each answering on the same event, ten times over."""

    def build(s: ModelRunnerStep) -> None:
        s.add_model("m1", model_class=Inc(name="m1", inc=1), execution_mechanism="naive")
        s.add_model("m2", model_class=Inc(name="m2", inc=2), execution_mechanism="process_pool")

    server = _serve(build)
    try:
        for n in range(10):
            assert server.test("/", {"n": n}) == {"m1": {"n": n + 1}, "m2": {"n": n + 2}}
    finally:
        server.wait_for_completion()


def test_a_missing_predict_raises_model_runner_error_when_the_server_starts() -> None:
    from fnrun.compat.mlrun.errors import ModelRunnerError

    with pytest.raises(ModelRunnerError) as err:
        _serve(
            lambda s: s.add_model("nop", model_class="NoPredict", execution_mechanism="thread_pool")
        )
    assert "nop is running with thread_pool execution_mechanism but predict()" in str(err.value)
    assert err.value.get_model_error("nop") is not None
