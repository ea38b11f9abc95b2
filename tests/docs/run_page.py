"""Run one docs page's examples as a user would paste them: ``python run_page.py PAGE DIR``.

In DIR (the page's own folder): the page's ``file:`` blocks are written first, then its
Python blocks run in order in one namespace (a traceback names the page and its line), its
``run`` bash blocks run in a shell, and ``not run`` blocks are only compiled. Exits 1 naming
the block that failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from blocks import blocks


def main(page: Path, folder: Path) -> int:
    found = blocks(page)
    os.chdir(folder)
    sys.path.insert(0, str(folder))  # as a script in that folder: its modules import
    for block in found:
        if block.directive == "file":
            target = folder / block.argument
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in found:
        if block.directive == "file":
            continue
        print(f"== {block.where} ({block.lang} {block.directive})", flush=True)
        if block.lang == "python":
            # padded so the page's line numbers are the traceback's
            code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
            if block.directive == "not run":
                continue
            try:
                exec(code, namespace)
            except BaseException:
                traceback.print_exc()
                print(f"FAILED: the example at {block.where}", file=sys.stderr)
                return 1
        elif block.lang == "bash" and block.directive == "run":
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=folder)
            if done.returncode:
                print(f"FAILED: the shell example at {block.where}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()))
