"""Image builds of batch functions (``fn.deploy()``, ``fn.run(auto_build=True)``).

:func:`build_image` makes the function's build context (:mod:`.context`) under
``$FNRUN_HOME/builds/<project>-<name>``, builds it with the builder asked for, or the first
that can: a local docker (engine reachable), podman or buildah (:mod:`.local`), else a
Kaniko Job on the configured Kubernetes cluster (:mod:`.kaniko`); and records the image in
``fn.spec.image`` and the build in ``fn.status`` (``state: ready``, ``build_log``).

May import: placements/, kubernetes/, local/, progress/ and the layers below runtimes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrun.config import get_settings
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.build.context import BuildContext, build_context
from fnrun.runtimes.local.build import TOOLS, BuildError, available_tool, local_build

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike

BUILDERS = ("auto", *TOOLS, "kaniko")
LOG_TAIL = 200  # lines of the build log kept in the function's status

__all__ = ["BuildContext", "BuildError", "build_context", "build_image"]


def build_image(
    fn: RuntimeLike,
    builder: str = "auto",
    registry: str = "",
    push: bool = True,
    watch: bool = True,
) -> BuildContext:
    """Build ``fn``'s image; returns the context it was built from."""
    from fnrun.runtimes.progress import status_printer

    if builder not in BUILDERS:
        raise InvalidArgumentError(
            f"unknown builder {builder!r}", field="builder", hint="use " + ", ".join(BUILDERS)
        )
    name = f"{fn.metadata.project or 'default'}-{fn.metadata.name or 'fn'}"
    context = build_context(fn, get_settings().home / "builds" / name, registry)
    tool = _choose(builder, context)
    say = status_printer(watch)
    fn.status.state = "building"
    try:
        if tool == "kaniko":
            from fnrun.runtimes.build.kaniko import kaniko_build
            from fnrun.runtimes.kubernetes.cluster import configured_cluster
            from fnrun.runtimes.kubernetes.watch import follow_settings

            cluster, _why = configured_cluster()
            assert cluster is not None  # _choose checked
            pending, poll = follow_settings()
            log = kaniko_build(fn, context, cluster, push, pending, poll, say)
        else:
            if say is not None:
                say(f"building {context.image} with {tool}")
            log = local_build(tool, context.folder, context.image, push, watch)
    except BuildError as exc:
        fn.status.state = "error"
        fn.status.build_log = _tail(exc.log)
        raise
    fn.spec.image = context.image
    fn.status.state = "ready"
    fn.status.container_image = context.image
    fn.status.build_log = _tail(log)
    return context


def _choose(builder: str, context: BuildContext) -> str:
    if builder == "kaniko" or builder == "auto":
        tool = available_tool() if builder == "auto" else ""
        if tool:
            return tool
        from fnrun.runtimes.kubernetes.cluster import configured_cluster

        cluster, why = configured_cluster()
        if cluster is not None:
            return "kaniko"
        raise InvalidArgumentError(
            f"no image builder here: no docker engine, podman or buildah, and {why}",
            field="builder",
            hint=f"install one, or configure a cluster (FNRUN_K8S); the build context is in "
            f"{context.folder} (docker build -t {context.image} {context.folder})",
        )
    return builder


def _tail(log: str) -> str:
    return "".join(log.splitlines(keepends=True)[-LOG_TAIL:])
