"""MLRun's V2 serving idioms as its own tests use them: a model step without a router, the
``ready`` answer, a graph server built by hand (``create_graph_server``, ``to_yaml``), and the
route limit."""

from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.serving import RouterStep, V2ModelServer, create_graph_server
from fnrun.serving.states import MAX_ALLOWED_STEPS

DATA = '{"inputs": [5]}'


class Multiplier(V2ModelServer):
    def load(self) -> None:
        pass

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"][0] * self.get_param("multiplier")


def test_a_model_step_in_a_flow_without_a_router() -> None:
    fn = fnrun.new_function("tests", kind="serving")
    graph = fn.set_topology("flow", engine="sync")  # type: ignore[attr-defined]
    graph.to("Multiplier", "my2", model_path=".", multiplier=100).respond()
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert server.test("/", method="GET")["name"] == "my2"
    ready = server.test("/ready", method="GET", silent=True)
    assert ready.status_code == 200
    assert server.test("/", DATA)["outputs"] == 500


def test_ready_answers_as_mlrun() -> None:
    fn = fnrun.new_function("tests", kind="serving")
    fn.set_topology("router")  # type: ignore[attr-defined]
    fn.add_model("m1", class_name="Multiplier", model_path="", multiplier=2)  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    answer = server.test("/v2/models/m1/ready", method="GET", silent=True)
    assert answer.status_code == 200
    assert answer.body.decode("utf-8") == "Model m1 is ready (event_id = 1)"


def test_a_graph_server_built_by_hand_and_its_yaml() -> None:
    host = create_graph_server(graph=RouterStep())
    host.graph.add_route("my", class_name=Multiplier, model_path="", multiplier=100)
    host.init_states(None, namespace=globals())
    host.init_object(globals())
    spec = fnrun.model.serialize.from_yaml(host.to_yaml())
    assert spec["version"] == "v2" and spec["graph"]["kind"] == "router"
    assert spec["graph"]["routes"]["my"]["class_args"]["multiplier"] == 100
    assert host.test("/v2/models/my/infer", DATA)["outputs"] == 500


def test_a_router_takes_at_most_mlruns_number_of_routes() -> None:
    router = RouterStep()
    for key in range(MAX_ALLOWED_STEPS):
        router.add_route(f"k{key}", class_name=Multiplier)
    router.add_route("k0", class_name=Multiplier)  # replacing one is fine
    with pytest.raises(
        InvalidArgumentError, match=f"the most a graph takes \\({MAX_ALLOWED_STEPS}\\)"
    ):
        router.add_route("one-more", class_name=Multiplier)


def test_mock_deployments_as_mlrun(tmp_path: Any) -> None:
    """MLRun's ``test_mock_deploy`` verbs: ``mlrun.deploy_function(fn, mock=True)``,
    ``project.deploy_function(fn, mock=True)`` (a project made with ``save=False`` stores
    nothing), ``fn.invoke`` answering from the mock, and ``fn._set_as_mock(False)`` forgetting
    it (``invoke`` then wants a real deployment)."""
    import fnrun.compat.mlrun as mlrun

    project = mlrun.new_project("mockdep", context=str(tmp_path), save=False)
    assert "mockdep" not in [p["metadata"]["name"] for p in fnrun.get_run_db().list_projects()]
    fn = mlrun.new_function("tests", kind="serving")
    fn.add_model("my", ".", class_name=Multiplier(multiplier=100))
    assert mlrun.deploy_function(fn, mock=True) == "mock://tests"
    assert fn.invoke("/v2/models/my/infer", DATA)["outputs"] == 500
    fn._set_as_mock(False)
    with pytest.raises(InvalidArgumentError, match="is not deployed"):
        fn.invoke("/v2/models/my/infer", DATA)
    assert project.deploy_function(fn, mock=True) == "mock://tests"
    assert fn.invoke("/v2/models/my/infer", DATA)["outputs"] == 500


def test_mlconf_mock_switch_drives_deploy_and_invoke(tmp_path: Any) -> None:
    """MLRun's ``test_mock_deploy``/``test_mock_invoke``: ``mlconf.mock_nuclio_deployment``
    ``"1"`` mocks every deploy and invoke that does not say otherwise, ``"auto"`` mocks when no
    Nuclio is known (``nuclio_version`` empty) and not when one is, ``""`` never; an explicit
    ``mock=`` always wins."""
    import fnrun.compat.mlrun as mlrun

    mlrun.new_project("x", context=str(tmp_path), save=False)
    fn = mlrun.new_function("tests", kind="serving")
    fn.add_model("my", ".", class_name=Multiplier(multiplier=100))

    mlrun.mlconf.mock_nuclio_deployment = "1"
    assert fn.invoke("/v2/models/my/infer", DATA)["outputs"] == 500  # never deployed
    fn._set_as_mock(False)
    with pytest.raises(InvalidArgumentError, match="is not deployed"):
        fn.invoke("/v2/models/my/infer", DATA, mock=False)

    mlrun.mlconf.mock_nuclio_deployment = "auto"
    mlrun.mlconf.nuclio_version = ""
    assert mlrun.mlconf.use_nuclio_mock() is True
    assert mlrun.deploy_function(fn) == "mock://tests"
    assert fn.invoke("/v2/models/my/infer", DATA)["outputs"] == 500
    fn._set_as_mock(False)
    mlrun.mlconf.nuclio_version = "1.13.0"  # a Nuclio is known: auto no longer mocks
    assert mlrun.mlconf.use_nuclio_mock() is False
    with pytest.raises(InvalidArgumentError, match="is not deployed"):
        fn.invoke("/v2/models/my/infer", DATA)

    mlrun.mlconf.mock_nuclio_deployment = ""
    assert mlrun.mlconf.use_nuclio_mock() is False
    assert fn.invoke("/v2/models/my/infer", DATA, mock=True)["outputs"] == 500
    assert mlrun.mlconf.to_dict()["mock_nuclio_deployment"] == ""
    with pytest.raises(AttributeError, match="settable: artifact_path"):
        mlrun.mlconf.no_such_setting = 1


def test_fnrun_mock_deploy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FNRUN_MOCK_DEPLOY=1``: a plain ``fn.deploy()`` stays in this process."""
    from fnrun.config import reset_settings

    monkeypatch.setenv("FNRUN_MOCK_DEPLOY", "1")
    reset_settings()
    fn = fnrun.new_function("envmock", kind="serving")
    fn.add_model("my", ".", class_name=Multiplier(multiplier=3))
    assert fn.deploy() == "mock://envmock"
    assert fn.invoke("/v2/models/my/infer", DATA)["outputs"] == 15
