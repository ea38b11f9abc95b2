"""Reading a function's last tracked records back from its sink (a folder of JSON lines, the
mock's memory), within the service's bounds: no folder outside its roots, no symlink out, no
broker it was not told to read."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import fnrun
import fnrun.serving
from fnrun.stream.tracked import TAIL_BYTES, Bounds, NotReadable, recent_records, steps_of


class Model(fnrun.serving.V2ModelServer):  # type: ignore[misc]
    def load(self) -> None:
        self.model = None

    def predict(self, request: dict[str, Any]) -> Any:
        if request["inputs"] == [[0]]:
            raise ValueError("zero is refused")
        return [row[0] * 2 for row in request["inputs"]]


def _tracked(path: str, steps: list[str] | None = None) -> Any:
    fn = fnrun.new_function("tracked", kind="serving")
    fn.set_topology("router")  # type: ignore[attr-defined]
    for name in ("a", "b"):
        fn.add_model(name, class_name=Model, model_path="none")  # type: ignore[attr-defined]
    fn.set_tracking(path, steps=steps)  # type: ignore[attr-defined]
    return fn.to_mock_server()  # type: ignore[attr-defined]


def test_the_newest_records_of_a_step_come_back_from_a_folder(tmp_path: Path) -> None:
    server = _tracked(str(tmp_path / "track"))
    for i in range(1, 8):
        server.test(f"/v2/models/{'a' if i % 2 else 'b'}/infer", body={"inputs": [[i]]})
    server.test("/v2/models/a/infer", body={"inputs": [[0]]}, silent=True)
    server.close()  # flushed
    everything = recent_records(str(tmp_path / "track"), limit=100)
    assert steps_of(everything) == ["a", "b"]
    latest = recent_records(f"file://{tmp_path / 'track'}", step="a", limit=3)
    assert [r["inputs"] for r in latest] == [[[0]], [[7]], [[5]]]  # newest first
    assert latest[0]["error"] == "ValueError: zero is refused" and latest[1]["outputs"] == [14]
    assert [r["step"] for r in recent_records(str(tmp_path / "track"), "b")] == ["b"] * 3


def test_the_mock_memory_sink_reads_back_too() -> None:
    server = _tracked("memory://reader-test")
    server.test("/v2/models/b/infer", body={"inputs": [[3]]})
    (record,) = recent_records("memory://reader-test", step="b")
    assert record["outputs"] == [6] and record["model"] == "b"


def test_only_the_tail_of_a_big_file_is_read_and_a_cut_line_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    line = {"step": "m", "when": "", "inputs": "x" * 1000}
    lines = [json.dumps({**line, "when": f"2026-01-01T00:00:{i % 60:02d}.{i:06d}"})
             for i in range(2 * TAIL_BYTES // 1000)]  # fmt: skip
    (folder / "f-1.jsonl").write_text("\n".join(lines) + '\n{"step": "m", "half')
    found = recent_records(str(folder), "m", limit=200)
    assert 0 < len(found) < len(lines)  # the tail only
    assert all(r["inputs"] == "x" * 1000 for r in found)  # whole lines, not the cut one


def test_the_service_reads_only_under_its_roots(tmp_path: Path, monkeypatch: Any) -> None:
    inside, outside = tmp_path / "root", tmp_path / "elsewhere"
    for folder in (inside / "t", outside):
        folder.mkdir(parents=True)
        (folder / "f.jsonl").write_text(json.dumps({"step": "m", "when": "1"}) + "\n")
    monkeypatch.delenv("FNRUN_TRACKING_ROOTS", raising=False)
    bounds = Bounds.for_service([inside])
    assert len(recent_records(str(inside / "t"), bounds=bounds)) == 1
    with pytest.raises(NotReadable, match="outside the folders") as info:
        recent_records(str(outside), bounds=bounds)
    assert "FNRUN_TRACKING_ROOTS" in (info.value.hint or "")
    with pytest.raises(NotReadable, match="outside"):
        recent_records(str(inside / ".." / "elsewhere"), bounds=bounds)  # no climbing out
    (inside / "link").symlink_to(outside)
    with pytest.raises(NotReadable, match="outside"):
        recent_records(str(inside / "link"), bounds=bounds)  # nor a symlink out
    secret = tmp_path / "secret.txt"
    secret.write_text(json.dumps({"step": "m", "when": "2", "inputs": "the secret"}) + "\n")
    os.symlink(secret, inside / "t" / "leak.jsonl")
    assert [r["when"] for r in recent_records(str(inside / "t"), bounds=bounds)] == ["1"]
    monkeypatch.setenv("FNRUN_TRACKING_ROOTS", str(outside))
    assert len(recent_records(str(outside), bounds=Bounds.for_service([inside]))) == 1


def test_the_service_dials_only_the_brokers_it_was_told(monkeypatch: Any) -> None:
    monkeypatch.delenv("FNRUN_TRACKING_BROKERS", raising=False)
    with pytest.raises(NotReadable, match="not ones the service reads") as info:
        recent_records("kafka://10.0.0.9:9092/t", bounds=Bounds.for_service([]))
    assert "FNRUN_TRACKING_BROKERS" in (info.value.hint or "")
    with pytest.raises(NotReadable, match="not a tracking stream"):
        recent_records("http://169.254.169.254/latest", bounds=Bounds.for_service([]))


def test_fnrun_functions_status_prints_the_last_records_of_a_step(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fnrun.cli import app

    fn = fnrun.new_function("tracked-cli", kind="serving")
    fn.set_topology("router")  # type: ignore[attr-defined]
    fn.add_model("a", class_name=Model, model_path="none")  # type: ignore[attr-defined]
    fn.set_tracking(str(tmp_path / "t"))  # type: ignore[attr-defined]
    fn.save()
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    for i in (1, 2, 3):
        server.test("/v2/models/a/infer", body={"inputs": [[i]]})
    server.close()
    runner = CliRunner()
    out = runner.invoke(app, ["functions", "status", "--name", "tracked-cli", "--records", "a",
                              "--limit", "2"], terminal_width=250)  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "last 2 tracked records of tracked-cli, step a" in out.output
    assert "[[3]]" in out.output and "[[2]]" in out.output and "[[1]]" not in out.output
    assert "[6]" in out.output  # its outputs
    none = runner.invoke(app, ["functions", "status", "--name", "tracked-cli", "--records", "zz"])
    assert "last 0 tracked records" in none.output
