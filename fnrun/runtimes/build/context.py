"""A function's image build context: a Dockerfile and what it copies, made from
``fn.spec.build`` alone, byte for byte the same for the same recipe.

- ``FROM`` the build's ``base_image`` (default ``FNRUN_BASE_IMAGE`` or ``python:3.11-slim``);
- fnrun itself (its package copied from this installation, its base dependencies pip
  installed) unless ``build_config(with_mlrun=False)`` says the base image has it;
- ``requirements`` (and a requirements file's lines) pip installed, then ``commands`` run,
  in the order given;
- the function's code: its embedded code, or a local source directory/archive, copied to
  the working directory. A remote source (``git://``, ``s3://``) is fetched when the run
  starts, as ``load_source_on_run`` says; it is not baked in.

The context's digest (sha256 of its deterministic tarball) tags the image when the build
names none: the same recipe gives the same tag, so an image already built is reused.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import io
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fnrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike

BASE_IMAGE_ENV = "FNRUN_BASE_IMAGE"
DEFAULT_BASE = "python:3.11-slim"
REGISTRY_ENV = "FNRUN_REGISTRY"
APP_DIR = "/fnrun/app"
LIB_DIR = "/fnrun/lib"
_REMOTE = ("git://", "git+", "http://", "https://", "s3://", "gs://", "az://", "v3io://")


@dataclass(frozen=True)
class BuildContext:
    """A written build context: its folder, Dockerfile text, tarball and image name."""

    folder: Path
    dockerfile: str
    tarball: bytes  # the context as a deterministic .tar.gz (what Kaniko reads)
    digest: str
    image: str


def build_context(fn: RuntimeLike, folder: Path, registry: str = "") -> BuildContext:
    """Write ``fn``'s build context into ``folder`` (emptied first)."""
    build = fn.spec.build
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    lines = [
        "# syntax=docker/dockerfile:1",
        f"# the image of fnrun function {fn.metadata.project or 'default'}/{fn.metadata.name}",
        f"FROM {build.base_image or os.environ.get(BASE_IMAGE_ENV) or DEFAULT_BASE}",
        "ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
    ]
    requirements = list(build.requirements)
    if build.with_mlrun is not False:
        _copy_fnrun(folder / "fnrun-lib")
        requirements = _fnrun_requirements() + requirements
        lines += [f"COPY fnrun-lib/ {LIB_DIR}/", f"ENV PYTHONPATH={LIB_DIR}"]
    steps = list(build.commands)
    if requirements:
        (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")
        lines.append("COPY requirements.txt /fnrun/requirements.txt")
        steps.insert(0, "python -m pip install --no-cache-dir -r /fnrun/requirements.txt")
    if steps:  # one layer: requirements first, then the commands in their order
        lines.append("RUN " + " \\\n && ".join(steps))
    workdir = fn.spec.workdir or APP_DIR
    lines.append(f"WORKDIR {workdir}")
    if _copy_code(fn, folder / "source"):
        lines.append("COPY source/ ./")
    dockerfile = "\n".join(lines) + "\n"
    (folder / "Dockerfile").write_text(dockerfile)
    tarball = _tarball(folder)
    digest = hashlib.sha256(tarball).hexdigest()
    return BuildContext(folder, dockerfile, tarball, digest, image_name(fn, digest, registry))


def image_name(fn: RuntimeLike, digest: str, registry: str = "") -> str:
    """``build.image`` as given (a leading ``.`` means "in the registry"), else
    ``<registry>/fnrun-<project>-<name>:<digest12>``."""
    build = fn.spec.build
    registry = (registry or build.registry or os.environ.get(REGISTRY_ENV, "")).rstrip("/")
    image = str(build.image)
    if image and not image.startswith("."):
        return image
    if not registry:
        raise InvalidArgumentError(
            f"no registry to push the image of {fn.metadata.name!r} to",
            field="build_config.registry",
            hint=f"fn.build_config(image='registry/name:tag'), or set {REGISTRY_ENV}",
        )
    if image:
        return f"{registry}/{image.lstrip('./')}"
    name = f"fnrun-{fn.metadata.project or 'default'}-{fn.metadata.name}".lower()
    return f"{registry}/{name}:{digest[:12]}"


def _copy_code(fn: RuntimeLike, target: Path) -> bool:
    build = fn.spec.build
    if build.code:
        target.mkdir()
        filename = Path(build.origin_filename or "main.py").name
        if not filename.endswith(".py"):
            filename = "main.py"
        (target / filename).write_text(build.code)
        return True
    source = build.source
    if not source or source.startswith(_REMOTE) or build.load_source_on_run:
        return False
    path = Path(source)
    if path.is_dir():
        shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__", ".git"))
    else:
        shutil.unpack_archive(str(path), str(target))
    return True


def _copy_fnrun(target: Path) -> None:
    package = Path(__file__).resolve().parents[2]  # fnrun/ (runtimes/build/context.py)
    shutil.copytree(package, target / "fnrun", ignore=shutil.ignore_patterns("__pycache__"))


def _fnrun_requirements() -> list[str]:
    """fnrun's own dependencies (no extras): what its copied package needs."""
    try:
        declared = importlib.metadata.requires("fnrun") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    return [r for r in declared if "extra ==" not in r]


def _tarball(folder: Path) -> bytes:
    """The folder as a .tar.gz whose bytes depend only on file names, modes and contents."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644
            if path.is_file():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()
