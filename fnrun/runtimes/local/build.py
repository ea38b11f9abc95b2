"""Local image builders: docker (its engine reachable), podman or buildah on PATH, found in
that order. Each builds the context folder with its Dockerfile and pushes the image unless
told not to; the combined output is the build log."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from fnrun.errors import FnrunError

TOOLS = ("docker", "podman", "buildah")


class BuildError(FnrunError):
    """An image build failed; ``log`` holds what the builder printed."""

    def __init__(self, message: str, log: str = "", **kwargs: str) -> None:
        super().__init__(message, **kwargs)
        self.log = log


def available_tool() -> str:
    """The first local builder that can build here ('' when none)."""
    for tool in TOOLS:
        path = shutil.which(tool)
        if path is None:
            continue
        probe = [path, "version"] if tool == "buildah" else [path, "info"]
        try:
            done = subprocess.run(probe, capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:  # docker's client alone answers "info" with an error
            return tool
    return ""


def build_commands(tool: str, folder: Path, image: str, push: bool) -> list[list[str]]:
    build = "bud" if tool == "buildah" else "build"
    commands = [[tool, build, "-t", image, "-f", str(folder / "Dockerfile"), str(folder)]]
    if push:
        commands.append([tool, "push", image])
    return commands


def local_build(tool: str, folder: Path, image: str, push: bool, watch: bool) -> str:
    """Build (and push) with ``tool``; the build log. A failed step is a BuildError."""
    log: list[str] = []
    for command in build_commands(tool, folder, image, push):
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            if watch:
                sys.stdout.write(line)
        if proc.wait() != 0:
            text = "".join(log)
            tail = "".join(log[-5:]).strip()
            raise BuildError(
                f"{' '.join(command[:2])} of {image} failed with exit code {proc.returncode}: "
                f"{tail}",
                log=text,
                hint=f"the build context is in {folder}",
            )
    return "".join(log)
