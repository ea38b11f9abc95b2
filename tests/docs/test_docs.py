"""The README and every ``docs/`` page: their examples run, their links resolve, their
``fnrun`` command lines name real commands and options, and the README fits one screen.

Each page runs in a fresh interpreter of its own (``run_page.py``), in a folder holding a copy
of ``examples/``, on embedded defaults under a fresh ``FNRUN_HOME`` and with only the bundled
hub (no network). See ``blocks.py`` for the directives a page may give its blocks.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from fnrun.cli import app
from tests.conftest import require_service
from tests.docs.blocks import NEEDS, NOT_RUN_REASONS, Block, blocks, needs_of

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
RUNNER = Path(__file__).with_name("run_page.py")
README_LINES = 80  # one screen, give or take a scroll


def _marks(page: Path) -> list[pytest.MarkDecorator]:
    needs = needs_of(blocks(page))
    if needs & {"spark", "mpi"}:
        return [pytest.mark.integration, pytest.mark.engines]
    if needs & {"kafka", "service", "dask"}:
        return [pytest.mark.integration]
    return []


def _runnable(page: Path) -> bool:
    return any(
        (b.lang == "python" and b.directive not in {"file", "not run"})
        or (b.lang == "bash" and b.directive == "run")
        for b in blocks(page)
    )


@pytest.fixture
def resources(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment a page's ``needs:`` blocks ask for, made real."""
    page: Path = request.param
    needs = needs_of(blocks(page))
    env: dict[str, str] = {}
    if "kafka" in needs:
        env["KAFKA_BROKER"] = require_service("FNRUN_TEST_KAFKA", "Kafka")
    if "spark" in needs:
        pytest.importorskip("pyspark", reason="pyspark (the engines tier installs it)")
    if "mpi" in needs and not shutil.which("mpirun"):
        pytest.fail("mpirun not on PATH (the engines tier installs Open MPI)")
    if "service" not in needs:
        yield env
        return
    from fnrun.db.sql.sqldb import SQLRunDB
    from tests.db.restserver import running_service

    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token="docs-token") as url:
        yield {**env, "FNRUN_DBPATH": url, "FNRUN_TOKEN": "docs-token"}
    sql.close()


@pytest.mark.parametrize(
    "resources",
    [pytest.param(p, id=p.name, marks=_marks(p)) for p in PAGES if _runnable(p)],
    indirect=True,
)
def test_the_pages_examples_run(
    resources: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    page: Path = request.node.callspec.params["resources"]
    folder = tmp_path / "work"
    shutil.copytree(ROOT / "examples", folder / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FNRUN_", "MLRUN_", "OTEL_"))}
    env.update(
        FNRUN_HOME=str(tmp_path / "home"),
        FNRUN_PROGRESS="0",
        FNRUN_HUB_SOURCES="fnrun=bundled",
        FNRUN_K8S="off",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        **resources,
    )
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(page), str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}"


def _all_blocks() -> list[Block]:
    return [b for page in PAGES for b in blocks(page)]


def test_every_directive_is_known_and_every_not_run_names_a_resource() -> None:
    for block in _all_blocks():
        if block.directive == "not run":
            reason = block.argument.removeprefix("needs ").strip()
            assert reason in NOT_RUN_REASONS, f"{block.where}: not run for {reason!r}"
        if block.directive == "needs":
            assert block.argument in NEEDS, f"{block.where}: needs {block.argument!r}"
        if block.directive == "run":
            assert block.lang == "bash", f"{block.where}: only bash blocks take run"
        if block.directive == "file":
            assert block.argument and "/" not in block.argument.strip("./"), block.where


def test_not_run_examples_are_few() -> None:
    python = [b for b in _all_blocks() if b.lang == "python" and b.directive != "file"]
    not_run = [b.where for b in python if b.directive == "not run"]
    assert len(not_run) * 5 <= len(python), f"most examples must run; not run: {not_run}"


_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in _LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve()
        assert path.exists(), f"{page.name}: the link {target} leads nowhere"
        if anchor:
            assert anchor in _anchors(path), f"{page.name}: {target}: no such heading"


def _anchors(page: Path) -> set[str]:
    """The ids a Markdown renderer (GitHub's rule) gives the page's headings."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_the_readme_fits_one_screen_and_links_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_LINES
    for page in DOCS.glob("*.md"):
        assert f"docs/{page.name}" in readme, f"the README does not link docs/{page.name}"
    assert "./dev demo" in readme and "./dev test" in readme and "pip install" in readme


def _command(words: list[str]) -> tuple[Any, list[str]]:
    """The CLI command the words name, and the words after it (typer's click groups,
    whichever click that typer carries)."""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        sub = command.get_command(command.context_class(command), rest[0])
        assert sub is not None, f"no command {rest[0]!r} under {command.name!r}"
        command, rest = sub, rest[1:]
    return command, rest


def _cli_lines() -> Iterator[tuple[str, str]]:
    for block in _all_blocks():
        if block.lang not in {"bash", "text", ""}:
            continue
        for offset, line in enumerate(block.code.splitlines()):
            code = line.split(" #", 1)[0].strip()
            for part in re.split(r"\s*(?:&&|;|\|\s)\s*", code):
                part = re.sub(r"^(\w+=\S+\s+)+", "", part.strip())  # VAR=value prefixes
                if part.startswith("fnrun "):
                    yield f"{block.page.name}:{block.line + offset}", part


def test_cli_lines_name_real_commands_and_options() -> None:
    checked = 0
    for where, line in _cli_lines():
        words = shlex.split(line.replace("[", " ").replace("]", " "))[1:]
        alternatives = [words]
        if words and "|" in words[0]:  # `fnrun get runs|run`: each of them
            alternatives = [[w, *words[1:]] for w in words[0].split("|")]
        if len(words) > 1 and "|" in words[1] and not words[1].startswith("-"):
            alternatives = [[words[0], w, *words[2:]] for w in words[1].split("|")]
        for argv in alternatives:
            try:
                command, rest = _command(argv)
            except AssertionError as exc:
                raise AssertionError(f"{where}: {line}: {exc}") from None
            known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            for word in rest:
                option = word.split("=", 1)[0].split("/", 1)[0]
                if option.startswith("--") or re.fullmatch(r"-\w", option):
                    assert option in known, f"{where}: {line}: no option {option} ({known})"
        checked += 1
    assert checked >= 20  # the CLI page alone has more
