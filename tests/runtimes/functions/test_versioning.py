"""``fn.save`` versions by content hash through the public API and the default DB."""

from __future__ import annotations

from pathlib import Path

import fnrun
from tests.conftest import DATA


def test_save_same_content_same_hash_change_new_hash(fnrun_home: Path) -> None:
    fn = fnrun.code_to_function(
        "trainer", filename=str(DATA / "code" / "trainer.py"), handler="train", project="proj"
    )
    uri = fn.save(tag="v1")  # the saved version's URI, as MLRun's save() returns
    h1 = fn.metadata.hash
    assert (fnrun_home / "fnrun.db").is_file()  # the embedded default under FNRUN_HOME
    assert uri == fn.uri == f"db://proj/trainer@{h1}"
    same = fnrun.code_to_function(
        "trainer", filename=str(DATA / "code" / "trainer.py"), handler="train", project="proj"
    )
    assert same.save(tag="v1") == uri
    fn.set_env("X", "1")
    fn.save(tag="v2")
    h2 = fn.metadata.hash
    fn.spec.build.code = fn.code + "\n# changed\n"
    fn.save()
    h3 = fn.metadata.hash
    assert len({h1, h2, h3}) == 3
    db = fnrun.get_run_db()
    assert [v["hash"] for v in db.list_function_versions("trainer", "proj")] == [h3, h2, h1]
    restored = fnrun.import_function(f"db://proj/trainer@{h1}")
    assert restored.get_env("X") is None and "# changed" not in restored.code
    restored.save(tag="latest")  # restoring = saving the old content again: same hash
    assert fnrun.import_function("db://proj/trainer").metadata.hash == h1
    assert fnrun.import_function("db://proj/trainer:v2").get_env("X") == "1"


def test_default_project_and_tag(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from fnrun.config import reset_settings

    monkeypatch.setenv("FNRUN_DEFAULT_PROJECT", "team")
    reset_settings()
    fn = fnrun.new_function("plain", kind="job", command="x.py")
    fn.save()
    assert fn.metadata.project == "team" and fn.metadata.tag == "latest"
    assert fnrun.import_function("db://team/plain").spec.command == "x.py"
