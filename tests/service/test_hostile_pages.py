"""What a hostile run writes never becomes markup, script or a fetch in the service's origin.

Script, attribute and ``javascript:`` payloads go into every string a run, function,
project, label, result, artifact (key, kind, format, paths, metadata) or log line can hold;
every page and card is rendered, parsed, and searched for any element or attribute that is
not ours; a real Chromium then opens the pages and runs none of them. Artifact answers and
previews follow the download rules (passive types inline only; nothing outside the artifact
root; no server-side fetch of web URLs), and a serving page reads metrics only from
loopback or the cluster, once per few seconds.
"""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.runtimes.launch.runobject import RunObject
from tests.db.restserver import running_service

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
TOKEN = "hostile-t0ken"
PAYLOADS = [
    "<script>window.__xss=1</script>",
    "\"><xss-a onmouseover='window.__xss=1'>",
    "'><xss-b onfocus='window.__xss=1' autofocus>",
    "javascript:window.__xss=1",
    "' onerror='window.__xss=1' x='",
    "png'><script src='/api/v1/artifacts/evil/download?project=p&inline=1'></script>",
    "</pre></style></textarea><xss-c>",
    "<img src=x onerror=window.__xss=1>",
    "<svg><script>window.__xss=1</script></svg>",
]


class _Tags(HTMLParser):
    """Every start tag of a page, as (tag, {attribute: value})."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _ours(tag: str, attrs: dict[str, str]) -> str:
    """Why this element cannot be ours ("" when it is)."""
    if tag.startswith("xss") or any(a.startswith(("on", "xss")) for a in attrs):
        return "an injected element or attribute"
    for name in ("href", "src", "action"):
        if attrs.get(name, "").strip().lower().startswith(("javascript:", "data:text")):
            return f"a script URL in {name}"
    if tag == "script" and attrs.get("src") != "/ui/static/ui.js":
        return "a script that is not ours"
    if tag == "img" and not attrs.get("src", "").startswith("data:image/"):
        return "a picture from somewhere else"
    if tag == "iframe" and ("sandbox" not in attrs or "allow-scripts" in attrs["sandbox"]):
        return "a frame that may run script"
    if tag in ("object", "embed", "base") or attrs.get("http-equiv"):
        return "an element that loads or redirects"
    if "autofocus" in attrs and attrs.get("name") != "token":
        return "autofocus outside the sign-in form"
    return ""


def assert_clean(html: str, where: str) -> None:
    parser = _Tags()
    parser.feed(html)
    bad = [(tag, attrs, why) for tag, attrs in parser.tags if (why := _ours(tag, attrs))]
    assert not bad, f"{where}: {bad[:3]}"


def _hostile_world(sql: SQLRunDB, root: Path) -> dict[str, str]:
    """A project whose runs, artifacts, logs and functions are all payloads."""
    pay = itertools.cycle(PAYLOADS)
    nxt = lambda: next(pay)  # noqa: E731
    # names are one path segment (fnrun.model.names): the hostile ones without a slash
    named = itertools.cycle([p for p in PAYLOADS if "/" not in p])
    name = lambda: next(named)  # noqa: E731
    root.mkdir(parents=True, exist_ok=True)
    (root / "evil.js").write_text("window.__xss = 1")
    (root / "rows.csv").write_text(f"{nxt()},{nxt()}\n{nxt()},{nxt()}\n")
    (root / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    sql.store_project("p", {"spec": {"description": nxt()}})
    uris = {}
    at = {name: str(root / name) for name in ("evil.js", "pic.png", "rows.csv")}
    artifacts = {
        "evil": {"kind": nxt(), "spec": {"target_path": at["evil.js"], "format": "js"}},
        "plot": {"kind": "plot", "spec": {"target_path": at["pic.png"], "format": PAYLOADS[5]}},
        "table": {"kind": "table", "spec": {"target_path": at["rows.csv"], "format": "csv"}},
        "chart": {"kind": "chart", "spec": {"header": [nxt(), nxt()], "rows": [[1, 2], [2, 3]]}},
        "data": {"kind": "dataset",
                 "spec": {"header": [nxt()], "preview": [[nxt()]], "length": nxt()},
                 "status": {"stats": {nxt(): {"mean": nxt(), "hist": [[1, nxt()], [0, 1]]}}}},
        "model": {"kind": "model", "spec": {"model_file": nxt(), "metrics": {nxt(): nxt()}}},
        "page": {"kind": "artifact", "spec": {"body": nxt(), "format": "html"}},
        "link": {"kind": "artifact", "spec": {"target_path": PAYLOADS[3], "format": nxt()}},
        "text": {"kind": nxt(), "spec": {"body": nxt(), "format": nxt()},
                 "metadata": {"labels": {nxt(): nxt()}, "description": nxt()}},
    }  # fmt: skip
    for key, doc in artifacts.items():
        doc = {"metadata": {"key": key, **doc.pop("metadata", {})}, **doc}
        sql.store_artifact(key, doc, "u1", project="p")
        uris[key] = f"store://artifacts/p/{key}"
    uris[nxt()] = nxt()  # an artifact URI that is itself a payload
    for uid in ("u1", "u2"):
        run = {"kind": "run",
               "metadata": {"name": name(), "labels": {nxt(): nxt(), "k": nxt()}},
               "spec": {"parameters": {nxt(): nxt(), "n": 1.5}, "handler": nxt()},
               "status": {"state": nxt(), "results": {nxt(): nxt(), "acc": 0.5},
                          "error": nxt(), "artifact_uris": uris, "start_time": nxt(),
                          "iterations": [[nxt(), nxt()], [1, nxt()]],
                          "best_iteration": 1}}  # fmt: skip
        sql.store_run(run, uid, "p")
        sql.store_log(uid, "p", "\n".join(PAYLOADS).encode())
    code = __import__("base64").b64encode("\n".join(PAYLOADS).encode()).decode()
    fn = {"kind": "serving",
          "metadata": {"name": "hostile", "labels": {nxt(): nxt()}, "tag": "latest"},
          "spec": {"description": nxt(), "image": nxt(), "command": nxt(),
                   "build": {"functionSourceCode": code}},
          "status": {"state": nxt(), "address": PAYLOADS[3]}}  # fmt: skip
    first = sql.store_function(fn, "hostile", "p")
    fn["spec"]["description"] = nxt()
    second = sql.store_function(fn, "hostile", "p", tag=name())
    return {"a": first, "b": second}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[str, SQLRunDB, dict[str, str], Path]]:
    from fnrun.config import get_settings

    root = Path(get_settings().artifact_path)
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="p")
    versions = _hostile_world(sql, root)
    with running_service(sql, token=TOKEN) as url:
        yield url, sql, versions, root
    sql.close()


@contextmanager
def _session(url: str) -> Iterator[Any]:
    with httpx.Client(base_url=url) as client:
        form = {"content-type": "application/x-www-form-urlencoded"}
        signed = client.post("/ui/login", content=f"token={TOKEN}&next=/ui", headers=form)
        assert signed.status_code == 303
        yield client


def _pages(versions: dict[str, str]) -> list[str]:
    return ["/ui", "/ui/projects/p", "/ui/projects/p/runs", "/ui/projects/p/runs/u1",
            "/ui/projects/p/compare?uid=u1&uid=u2", "/ui/projects/p/functions/hostile",
            f"/ui/projects/p/functions/hostile?a={versions['a']}&b={versions['b']}",
            "/ui/projects/p/runs?name=%3Cscript%3E&label=%3Cx%3E%3D%27y", "/ui/hub",
            "/ui/login?next=%27%3E%3Cxss-d%3E", "/ui/projects/%3Cxss-e%3E/runs/nope"]  # fmt: skip


def test_every_page_and_card_escapes_what_runs_write(
    world: tuple[str, SQLRunDB, dict[str, str], Path],
) -> None:
    url, sql, versions, _root = world
    with _session(url) as client:
        for path in _pages(versions):
            page = client.get(path)
            assert page.status_code in (200, 404), (path, page.status_code)
            assert_clean(page.text, path)
            assert "window.__xss=1</script>" not in page.text
    from fnrun.notebook.function_card import function_card
    from fnrun.runtimes.functions.factory import function_from_dict

    card = RunObject(sql.read_run("u1", "p"), sql)._repr_html_()
    assert_clean(card, "the run card")
    assert "&lt;script&gt;" in card
    serving = function_from_dict(sql.get_function("hostile", "p"))
    assert_clean(function_card(serving), "the function card")


def test_a_drawing_with_anything_but_drawing_is_refused() -> None:
    from fnrun.notebook.templating import our_svg

    assert "<rect" in str(our_svg("<svg><rect x='1' y='2' width='3' height='4'/></svg>"))
    for bad in ("<svg><script>x()</script></svg>", "<svg onload='x()'></svg>",
                "<svg><a href='javascript:x()'><text>t</text></a></svg>",
                "<svg><foreignObject><p>x</p></foreignObject></svg>", "<b>not svg</b>",
                "<svg><line marker-end='url(http://x/y)'/></svg>"):  # fmt: skip
        with pytest.raises(ValueError):
            our_svg(bad)


def test_nothing_but_the_templating_module_makes_markup() -> None:
    package = Path(__file__).resolve().parents[2] / "fnrun"
    makers = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "Markup(" in p.read_text() or "|safe" in p.read_text().replace(" ", "")
    ]
    assert makers == ["notebook/templating.py"]
    for template in package.rglob("templates/*.html"):
        text = template.read_text().replace(" ", "")
        assert "|safe" not in text and "autoescapefalse" not in text, template


@pytest.mark.parametrize(
    ("name", "media", "disposition"),
    [("evil.js", "application/octet-stream", "attachment"),
     ("pic.png", "image/png", "inline"),
     ("rows.csv", "text/plain; charset=utf-8", "inline"),
     ("page.html", "text/html; charset=utf-8", "inline"),
     ("draw.svg", "image/svg+xml", "inline"),
     ("data.json", "text/plain; charset=utf-8", "inline"),
     ("tool.exe", "application/octet-stream", "attachment")],
)  # fmt: skip
def test_inline_answers_only_passive_types(
    world: tuple[str, SQLRunDB, dict[str, str], Path], name: str, media: str, disposition: str
) -> None:
    url, sql, _versions, root = world
    (root / name).write_bytes(b"<svg onload='x()'></svg>" if name.endswith("svg") else b"x")
    sql.store_artifact("f", {"metadata": {"key": "f"}, "spec": {"target_path": str(root / name)}},
                       "u9", project="p")  # fmt: skip
    auth = {"authorization": f"Bearer {TOKEN}"}
    inline = httpx.get(f"{url}/api/v1/artifacts/f/download", params={"project": "p", "inline": 1},
                       headers=auth)  # fmt: skip
    assert inline.status_code == 200
    assert inline.headers["content-type"] == media
    assert inline.headers["content-disposition"].startswith(disposition)
    assert inline.headers["x-content-type-options"] == "nosniff"
    assert inline.headers["content-security-policy"].startswith("sandbox;")
    plain = httpx.get(f"{url}/api/v1/artifacts/f/download", params={"project": "p"}, headers=auth)
    assert plain.headers["content-type"] == "application/octet-stream"
    assert plain.headers["content-disposition"].startswith("attachment")


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = b"secret,row\n1,2\n"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_previews_obey_the_download_rules(
    world: tuple[str, SQLRunDB, dict[str, str], Path], tmp_path: Path
) -> None:
    url, sql, _versions, root = world
    probe = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=probe.serve_forever, daemon=True).start()
    outside = tmp_path / "outside.csv"
    outside.write_text("host,secret\nx,y\n")
    (root / "big.csv").write_text("a,b\n" + "1,2\n" * 3_000_000)  # 12 MB
    targets = {"web": f"http://127.0.0.1:{probe.server_port}/probe.csv", "out": str(outside),
               "inside": str(root / "rows.csv"), "big": str(root / "big.csv")}  # fmt: skip
    for key, target in targets.items():
        doc = {"kind": "table", "metadata": {"key": key},
               "spec": {"target_path": target, "format": "csv"}}  # fmt: skip
        sql.store_artifact(key, doc, "u3", project="p")
    uris = {k: f"store://artifacts/p/{k}" for k in targets}
    run = {"kind": "run", "metadata": {"name": "previews"},
           "status": {"state": "completed", "artifact_uris": uris}}  # fmt: skip
    sql.store_run(run, "u3", "p")
    with _session(url) as client:
        page = client.get("/ui/projects/p/runs/u3").text
    probe.shutdown()
    assert _Recorder.hits == []  # the service fetched nothing from the web
    assert "secret" not in page and "host" not in page
    assert "outside the service&#39;s artifact store" in page
    assert "which the service does not fetch" in page
    assert page.count("<td>1</td><td>2</td>") >= 10  # inside the root: shown, ten rows
    assert len(page) < 200_000  # a 12 MB CSV previews its first 64 KiB only


def test_the_serving_page_reads_metrics_only_near_and_rarely() -> None:
    from fnrun.service.ui.serving_metrics import MetricsViews, allowed_address

    for near in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9",
                 "http://shop.default.svc:8080", "http://shop.ns.svc.cluster.local"):  # fmt: skip
        assert allowed_address(near), near
    for far in ("http://169.254.169.254/latest", "http://10.0.0.8:80", "http://example.com",
                "javascript:x", "http://127.0.0.1.evil.example", "http://[fe80::1]/",
                "http://localhost.evil.example"):  # fmt: skip
        assert not allowed_address(far), far
    fetched: list[str] = []
    now = [0.0]

    def fetch(url: str) -> str:
        fetched.append(url)
        return 'fnrun_requests_total{status="200"} 3\n'

    views = MetricsViews(fetch, ttl=5.0, clock=lambda: now[0])
    doc = {"status": {"address": "http://127.0.0.1:9000"}}
    for _ in range(20):
        assert views(doc)["rows"] == [["status 200", "3"]]
    now[0] = 6.0
    views(doc)
    assert fetched == ["http://127.0.0.1:9000/metrics"] * 2  # once per 5 s, however many views
    assert "not read" in views({"status": {"address": "http://169.254.169.254"}})["error"]
    assert len(fetched) == 2


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from tests.browser import launch_chromium

    yield from launch_chromium()


@pytest.mark.integration
def test_chromium_runs_none_of_the_planted_scripts(
    browser: Any, world: tuple[str, SQLRunDB, dict[str, str], Path], tmp_path: Path
) -> None:
    url, sql, versions, _root = world
    page = browser.new_page()
    page.goto(f"{url}/ui/login")
    page.fill("input[name=token]", TOKEN)
    page.click("button")
    for path in _pages(versions):
        page.goto(f"{url}{path}")
        page.wait_for_timeout(150)  # the log tail, any planted timer
        page.mouse.move(200, 200)  # hover handlers, had any been planted
        assert page.evaluate("window.__xss") is None, path
    page.goto(f"{url}/ui/projects/p/runs/u1")
    log = page.locator("pre.log")
    from playwright.sync_api import expect

    expect(log).to_contain_text("window.__xss=1</script>")  # shown as text
    assert page.locator("pre.log *").count() == 0
    # the card alone, outside the service's CSP (as a notebook shows it)
    card = tmp_path / "card.html"
    card.write_text(RunObject(sql.read_run("u1", "p"), sql)._repr_html_())
    page.goto(card.as_uri())
    page.mouse.move(100, 100)
    assert page.evaluate("window.__xss") is None
    page.close()
