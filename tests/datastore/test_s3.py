"""s3:// through fsspec/s3fs against a real S3-protocol HTTP server (moto's server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fnrun.datastore import get_dataitem

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip(
        "moto.server", reason="moto[server] (S3 stand-in) not installed"
    )
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_put_get_list_df(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("s3fs", reason="s3fs not installed")
    import boto3

    for var, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", s3_endpoint),
    ):
        monkeypatch.setenv(var, value)
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="fnrun-test")
    opts = {"client_kwargs": {"endpoint_url": s3_endpoint}}
    item = get_dataitem("s3://fnrun-test/data/table.csv", options=opts)
    item.put("a,b\n1,2\n")
    assert item.get(encoding="utf-8") == "a,b\n1,2\n"
    assert item.as_df()["a"].tolist() == [1]
    assert get_dataitem("s3://fnrun-test/data", options=opts).listdir() == ["table.csv"]
    assert item.stat()["size"] == 8
