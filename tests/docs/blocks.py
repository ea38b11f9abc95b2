"""The code blocks of a Markdown page, with the directive written above each.

A directive is an HTML comment on the line before a fence (invisible when rendered):

- ``<!-- file: NAME -->``: the block is the file NAME, written into the page's folder before
  the page runs (so an example can show a module and then use it);
- ``<!-- needs: WHAT -->``: the block needs a resource the test provides (``kafka``: a broker
  at ``$KAFKA_BROKER``; ``service``: ``FNRUN_DBPATH`` names a running ``fnrun service``;
  ``spark``, ``mpi``: the engines tier's pyspark and mpirun); the page runs in that tier;
- ``<!-- not run: needs REASON -->``: compiled (Python) but not run; the reason must name a
  resource no test machine has (``KUBERNETES``, ``NUCLIO``, ``REGISTRY`` below);
- ``<!-- run -->`` above a ``bash`` block: its lines run in the page's folder.

Python blocks run by default, in order, in one namespace per page (as a script would);
``bash``/``text`` blocks are not run, but every ``fnrun ...`` line in them is checked
against the CLI's commands and options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# What a docs example may be "not run" for: things no CI machine of ours has.
NOT_RUN_REASONS = {
    "a Kubernetes cluster",
    "a Nuclio dashboard",
    "a container registry",
    "a shell on the user's machine",
}
NEEDS = {"kafka", "service", "spark", "mpi", "dask"}

_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*(file|needs|not run|run)\s*:?\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    page: Path
    line: int  # the first line of the code (after the fence)
    lang: str
    code: str
    directive: str = ""  # file | needs | not run | run | ""
    argument: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of the page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise ValueError(f"{page.name}:{i + 1}: a code fence that never closes")
        directive = argument = ""
        back = i - 1
        while back >= 0 and not lines[back].strip():
            back -= 1
        if back >= 0 and (match := _DIRECTIVE.match(lines[back].strip())):
            directive, argument = match.group(1), match.group(2)
        found.append(
            Block(
                page,
                start + 1,
                fence.group(1),
                "\n".join(lines[start:end]) + "\n",
                directive,
                argument,
            )
        )
        i = end + 1
    return found


def needs_of(page_blocks: list[Block]) -> set[str]:
    return {b.argument for b in page_blocks if b.directive == "needs"}
