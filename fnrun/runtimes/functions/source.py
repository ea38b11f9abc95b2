"""Where a function's code comes from: embedded code, or a source archive; and its build recipe.

Embedded code (``spec.build.functionSourceCode``) and a source archive (``spec.build.source``)
are exclusive: a function has one origin for its code, never two that could disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from fnrun.errors import ConflictError, InvalidArgumentError, NotFoundError

_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
_REMOTE_SCHEMES = (
    "git://",
    "http://",
    "https://",
    "s3://",
    "gs://",
    "az://",
    "v3io://",
    "store://",
)


class SourceMixin:
    spec: Any

    def with_code(self, from_file: str = "", body: str | None = None) -> Self:
        """Embed code from a file or a string (``body=""`` removes it)."""
        if from_file:
            path = Path(from_file)
            if not path.is_file():
                raise NotFoundError(f"code file not found: {from_file}", field="from_file")
            body = path.read_text()
            self.spec.build.origin_filename = str(path)
        if body is None:
            raise InvalidArgumentError("give from_file or body", field="with_code")
        if body and self.spec.build.source:
            raise _exclusive("embedded code", "spec.build.functionSourceCode")
        self.spec.build.code = body
        return self

    def with_source_archive(
        self,
        source: str,
        handler: str | None = None,
        workdir: str | None = None,
        pull_at_runtime: bool = True,
        target_dir: str | None = None,
    ) -> Self:
        """Load the code from an archive: ``git://host/org/repo.git#ref``, a .zip/.tar.gz or a dir.

        ``pull_at_runtime`` loads it at every run (no image build); ``target_dir`` is where it is
        extracted; ``workdir`` is relative to the archive's root.
        """
        validate_source(source)
        if self.spec.build.function_source_code:
            raise _exclusive("a source archive", "spec.build.source")
        self.spec.build.source = source
        self.spec.build.load_source_on_run = pull_at_runtime
        if handler:
            self.spec.default_handler = handler
        if workdir is not None:
            self.spec.workdir = workdir
        if target_dir is not None:
            self.spec.clone_target_dir = target_dir
        return self

    def build_config(
        self,
        image: str = "",
        base_image: str | None = None,
        commands: list[str] | None = None,
        secret: str | None = None,
        source: str | None = None,
        extra: str | None = None,
        load_source_on_run: bool | None = None,
        with_mlrun: bool | None = None,
        auto_build: bool | None = None,
        requirements: str | list[str] | None = None,
        overwrite: bool = False,
        requirements_file: str = "",
        registry: str | None = None,
    ) -> Self:
        """Set the image build recipe; lists are appended (``overwrite=True`` replaces them).
        ``registry``: where ``fn.deploy()`` pushes the built image."""
        build = self.spec.build
        if image:
            build.image = image
        if base_image is not None:
            build.base_image = base_image
        if commands is not None:
            _check_str_list(commands, "commands")
            build.commands = _merge(build.commands, commands, overwrite)
        reqs = resolve_requirements(requirements, requirements_file)
        if reqs or (overwrite and requirements is not None):
            build.requirements = _merge(build.requirements, reqs, overwrite)
        if source:
            validate_source(source)
            if build.function_source_code:
                raise _exclusive("a source archive", "spec.build.source")
            build.source = source
        for attr, value in (
            ("secret", secret),
            ("extra", extra),
            ("load_source_on_run", load_source_on_run),
            ("with_mlrun", with_mlrun),
            ("auto_build", auto_build),
            ("registry", registry),
        ):
            if value is not None:
                setattr(build, attr, value)
        return self


def resolve_requirements(
    requirements: str | list[str] | None, requirements_file: str = ""
) -> list[str]:
    """Requirements from a list, a ``requirements.txt`` path or a single spec, plus a file."""
    out: list[str] = []
    if isinstance(requirements, str):
        requirements = (
            _read_requirements(requirements) if Path(requirements).is_file() else [requirements]
        )
    if requirements:
        _check_str_list(requirements, "requirements")
        out.extend(requirements)
    if requirements_file:
        if not Path(requirements_file).is_file():
            raise NotFoundError(
                f"requirements file not found: {requirements_file}", field="requirements_file"
            )
        out.extend(_read_requirements(requirements_file))
    return out


def validate_source(source: str) -> None:
    """A source must be a remote URL of a known scheme, an archive file or a directory."""
    if not isinstance(source, str) or not source:
        raise InvalidArgumentError(
            "empty source",
            field="source",
            hint="give git://host/repo.git#ref, an archive URL or a local dir",
        )
    if source.startswith(_REMOTE_SCHEMES):
        if source.startswith(("http://", "https://")) and not source.endswith(_ARCHIVE_SUFFIXES):
            raise InvalidArgumentError(
                f"unsupported source {source!r}",
                field="source",
                hint="an http(s) source must be a .zip or .tar.gz archive; use git:// for repos",
            )
        return
    path = Path(source)
    if path.is_dir() or (path.is_file() and source.endswith(_ARCHIVE_SUFFIXES)):
        return
    raise InvalidArgumentError(
        f"source {source!r} is neither a supported URL nor an existing archive or directory",
        field="source",
        hint="use git://..., https://.../x.tar.gz, s3://..., a .zip/.tar.gz or a dir",
    )


def _read_requirements(path: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines())
    return [line for line in lines if line]


def _merge(current: list[str], new: list[str], overwrite: bool) -> list[str]:
    if overwrite:
        return list(new)
    return current + [item for item in new if item not in current]


def _check_str_list(value: Any, field: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"expected a list of str, got {value!r}", field=field)


def _exclusive(what: str, field: str) -> ConflictError:
    return ConflictError(
        f"cannot set {what}: the function already has "
        + ("a source archive" if what == "embedded code" else "embedded code"),
        field=field,
        hint="code and source archive are exclusive; remove one first "
        "(fn.with_code(body='') or fn.spec.build.source = '')",
    )
