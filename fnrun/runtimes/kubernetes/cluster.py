"""Which Kubernetes cluster runs pods, if any, and the API clients that talk to it.

``FNRUN_K8S`` chooses: ``auto`` (the default) uses the in-cluster config inside a pod
(``KUBERNETES_SERVICE_HOST`` and a service-account token), else the kubeconfig
(``$KUBECONFIG`` or ``~/.kube/config``) when one exists; ``off`` never uses a cluster;
``in-cluster`` or a kubeconfig path names one. ``FNRUN_K8S_CONTEXT`` picks a kubeconfig
context (default: its current one), ``FNRUN_K8S_NAMESPACE`` the namespace (default: the
context's, the pod's own namespace, else ``default``). No cluster means runs of the ``job``
kind go to a local child process, and the start line says why.

Finding a cluster reads only the environment and the file system; connecting imports the
``kubernetes`` client (the ``k8s`` extra) and gives each cluster its own client
configuration (the process-wide default is left alone). API failures become fnrun errors
that say what was refused and how to fix it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fnrun.errors import ConflictError, FnrunError, InvalidArgumentError, NotFoundError
from fnrun.extras import require

K8S_ENV = "FNRUN_K8S"
CONTEXT_ENV = "FNRUN_K8S_CONTEXT"
NAMESPACE_ENV = "FNRUN_K8S_NAMESPACE"
SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER = "in-cluster"
T = TypeVar("T")


class ClusterError(FnrunError):
    """The Kubernetes API could not be reached, or refused what was asked."""


@dataclass(frozen=True)
class ClusterChoice:
    """Where pods go: ``source`` is ``in-cluster``, a kubeconfig path, or '' (no cluster,
    ``why`` says why)."""

    source: str
    context: str = ""
    namespace: str = ""
    why: str = ""

    @property
    def found(self) -> bool:
        return bool(self.source)


def find_cluster(environ: Mapping[str, str] | None = None) -> ClusterChoice:
    """The cluster the environment names, without importing the client."""
    env = os.environ if environ is None else environ
    wanted = (env.get(K8S_ENV) or "auto").strip()
    context, namespace = env.get(CONTEXT_ENV, ""), env.get(NAMESPACE_ENV, "")
    if wanted == "off":
        return ClusterChoice("", why=f"{K8S_ENV}=off")
    if wanted == IN_CLUSTER:
        return ClusterChoice(IN_CLUSTER, context, namespace)
    if wanted != "auto":
        path = Path(wanted).expanduser()
        if not path.is_file():
            raise InvalidArgumentError(
                f"{K8S_ENV} names {wanted!r}, which is not a kubeconfig file",
                field=K8S_ENV,
                hint="give a kubeconfig path, 'in-cluster', 'auto' or 'off'",
            )
        return ClusterChoice(str(path), context, namespace)
    if env.get("KUBERNETES_SERVICE_HOST") and (SA_DIR / "token").is_file():
        return ClusterChoice(IN_CLUSTER, context, namespace)
    configs = [p for p in (env.get("KUBECONFIG") or "").split(os.pathsep) if p]
    configs = configs or [str(Path(env.get("HOME") or Path.home()) / ".kube" / "config")]
    for config in configs:
        if Path(config).expanduser().is_file():
            return ClusterChoice(str(Path(config).expanduser()), context, namespace)
    why = f"no Kubernetes cluster configured: no kubeconfig, {K8S_ENV} unset"
    return ClusterChoice("", why=why)


@dataclass
class Cluster:
    """A connected cluster: its API client, namespace and a name for messages."""

    choice: ClusterChoice
    api: Any  # kubernetes.client.ApiClient
    namespace: str
    server: str
    context: str

    def describe(self) -> str:
        at = f"context {self.context}" if self.context else self.server
        return f"Kubernetes ({at}), namespace {self.namespace}"

    @property
    def batch(self) -> Any:
        return _client().BatchV1Api(self.api)

    @property
    def core(self) -> Any:
        return _client().CoreV1Api(self.api)

    @property
    def custom(self) -> Any:
        return _client().CustomObjectsApi(self.api)

    def call(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``method(*args, **kwargs)``; a refused or unreachable API becomes a ClusterError
        naming ``what`` was attempted (a missing object: NotFoundError)."""
        return api_call(self, what, method, *args, **kwargs)


@functools.lru_cache(maxsize=8)
def connect(choice: ClusterChoice) -> Cluster:
    """Load the chosen config into a client configuration of its own (kept per choice)."""

    client = _client()
    config = require("kubernetes.config", "k8s", "Kubernetes runs", package="kubernetes")
    configuration = client.Configuration()
    context = choice.context
    namespace = choice.namespace
    try:
        if choice.source == IN_CLUSTER:
            config.load_incluster_config(client_configuration=configuration)
            namespace = namespace or _pod_namespace()
        else:
            contexts, active = config.list_kube_config_contexts(config_file=choice.source)
            named = (c for c in contexts if c["name"] == context)
            chosen = next(named, None) if context else active
            if chosen is None:
                names = ", ".join(c["name"] for c in contexts)
                raise InvalidArgumentError(
                    f"kubeconfig {choice.source} has no context {context!r}",
                    field=CONTEXT_ENV,
                    hint=f"contexts: {names}",
                )
            context = chosen["name"]
            namespace = namespace or chosen.get("context", {}).get("namespace", "")
            config.load_kube_config(
                config_file=choice.source, context=context, client_configuration=configuration
            )
    except config.ConfigException as exc:
        raise ClusterError(
            f"cannot load the Kubernetes config {choice.source}: {exc}",
            field=K8S_ENV,
            hint=f"fix the config, or set {K8S_ENV}=off to run on this machine",
        ) from exc
    return Cluster(
        choice,
        client.ApiClient(configuration),
        namespace or "default",
        str(configuration.host),
        context,
    )


_NO_CLIENT = (
    "a Kubernetes cluster is configured, but the kubernetes client is not installed: "
    "pip install 'fnrun[k8s]'"
)


def configured_cluster() -> tuple[Cluster | None, str]:
    """The configured cluster, or None and why there is none."""
    choice = find_cluster()
    if not choice.found:
        return None, choice.why
    if importlib.util.find_spec("kubernetes") is None:
        return None, _NO_CLIENT
    return connect(choice), ""


def recorded_cluster(placed: dict[str, Any]) -> Cluster:
    """The cluster a run or deployment recorded (``status.kubernetes``: config, context,
    namespace); recorded elsewhere, this machine's cluster config with that namespace."""
    config, context = str(placed.get("config") or ""), str(placed.get("context") or "")
    namespace = str(placed.get("namespace") or "")
    if config == IN_CLUSTER or (config and Path(config).is_file()):
        choice = ClusterChoice(config, context, namespace)
    else:
        here = find_cluster()
        choice = ClusterChoice(here.source, here.context, namespace, here.why)
    if not choice.found:
        raise InvalidArgumentError(
            f"cannot reach the cluster it runs on from here: {choice.why}",
            field=K8S_ENV,
            hint=f"point {K8S_ENV} at a kubeconfig for that cluster",
        )
    return connect(choice)


def api_call(cluster: Cluster, what: str, method: Callable[..., T], *args: Any, **kw: Any) -> T:
    client = _client()
    try:
        return method(*args, **kw)
    except client.ApiException as exc:
        raise _api_error(cluster, what, exc) from exc
    except Exception as exc:
        if _is_connection_error(exc):
            raise ClusterError(
                f"cannot reach the Kubernetes API at {cluster.server} to {what}: {_reason(exc)}",
                hint=f"check the cluster ({cluster.describe()}), or set {K8S_ENV}=off "
                "(or pass local=True) to run on this machine",
            ) from exc
        raise


def _api_error(cluster: Cluster, what: str, exc: Any) -> FnrunError:
    message = _status_message(exc)
    where = cluster.describe()
    if exc.status in (401, 403):
        return ClusterError(
            f"Kubernetes refused to {what} ({exc.status} {exc.reason}): {message}",
            hint=f"the account of {where} needs create/get/list/watch/delete on jobs, pods, "
            "pods/log, configmaps and secrets in that namespace",
        )
    if exc.status == 404:
        return NotFoundError(f"cannot {what}: {message}", hint=f"in {where}")
    if exc.status == 409:
        return ConflictError(f"cannot {what}: {message}", hint=f"in {where}")
    if exc.status == 422 or exc.status == 400:
        return InvalidArgumentError(f"Kubernetes rejected the request to {what}: {message}")
    return ClusterError(f"Kubernetes failed to {what} ({exc.status} {exc.reason}): {message}")


def _status_message(exc: Any) -> str:
    import json

    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return str(exc.body or exc.reason)
    return str(body.get("message") or exc.reason) if isinstance(body, dict) else str(body)


def _is_connection_error(exc: BaseException) -> bool:
    import urllib3

    return isinstance(exc, (urllib3.exceptions.HTTPError, OSError))


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None)
    return str(inner or exc)


def _pod_namespace() -> str:
    try:
        return (SA_DIR / "namespace").read_text().strip()
    except OSError:
        return ""


def _client() -> Any:
    from fnrun.runtimes.kubernetes.manifests.pod import k8s

    return k8s()
