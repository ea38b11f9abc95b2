"""``fn.deploy(platform="nuclio")``: the function's Nuclio config through the dashboard API."""

from __future__ import annotations

import os
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.nuclio.client import NuclioDashboard
from fnrun.runtimes.nuclio.config import nuclio_config
from fnrun.runtimes.platforms import DeployOptions, register_platform


def deploy_nuclio(fn: Any, options: DeployOptions) -> str:
    url = options.dashboard_url or os.environ.get("FNRUN_NUCLIO_DASHBOARD", "")
    if not url:
        raise InvalidArgumentError(
            "no nuclio dashboard URL",
            field="dashboard_url",
            hint="pass dashboard_url= or set FNRUN_NUCLIO_DASHBOARD",
        )
    project = fn.metadata.project or "default"
    wait = max(options.timeout, 60)
    status = NuclioDashboard(url).deploy(nuclio_config(fn), project, wait=wait)
    urls = status.get("externalInvocationUrls") or status.get("internalInvocationUrls") or []
    address = urls[0] if urls else ""
    address = address if not address or address.startswith("http") else f"http://{address}"
    fn.status.state = "ready"
    fn.status.address = address
    fn.status.nuclio_name = fn.metadata.name
    fn.status.external_invocation_urls = list(urls)
    return str(address)


register_platform("nuclio", deploy_nuclio)
