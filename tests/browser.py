"""A real headless Chromium for the HTML tests: Playwright driving Debian's ``chromium``
(no browser download); FNRUN_TEST_CHROMIUM names another."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import require_service


def launch_chromium() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    if not chromium:
        require_service("FNRUN_TEST_CHROMIUM", "a chromium browser (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra)")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=os.environ.get("FNRUN_TEST_CHROMIUM") or chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        yield launched
        launched.close()
