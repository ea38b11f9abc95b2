"""Loading a function's code: one import per module, whatever the threads."""

from __future__ import annotations

from pathlib import Path


def test_threads_importing_the_same_code_never_see_it_half_made(tmp_path: Path) -> None:
    """A slow module body (imports, model loading) in one thread: another thread asking for
    the same code waits for it instead of getting the module before its functions exist."""
    import threading
    import time

    from fnrun.execution.loader import module_from_code

    code = "import time\ntime.sleep(0.3)\n\ndef train():\n    return 7\n"
    found: list[object] = []

    def load() -> None:
        found.append(getattr(module_from_code(code, tmp_path), "train", None))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.1)  # the first is inside its import when the others ask
    for t in threads:
        t.join(10)
    assert len(found) == 3 and all(callable(f) for f in found)
