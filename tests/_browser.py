"""Headless Debian chromium for the browser tests (selenium, the system chromedriver only).

Never lets selenium-manager download a driver or a browser: the driver path is given explicitly.
Host names resolve to nothing (``--host-resolver-rules``), so a page that tries to fetch anything
from the internet fails at once, without sending a packet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser_available() -> str | None:
    """None when chromium, chromedriver and selenium are usable, else the reason they are not."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
            return f"{exe} not found (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip, unless QH_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure."""
    if os.environ.get("QH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"QH_REQUIRE_BROWSER=1 but the browser test cannot run: {reason}")
    pytest.skip(reason)


def make_driver(tmp: Path, *, width: int = 1400, height: int = 1000) -> Any:
    """A headless chromium WebDriver with browser and performance logs enabled."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-default-apps",
        "--mute-audio",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--window-size={width},{height}",
        f"--user-data-dir={tmp / 'chromium-profile'}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(tmp / "chromedriver.log"))
    return webdriver.Chrome(service=service, options=opts)


def network_requests(driver: Any) -> list[dict[str, Any]]:
    """Requests the page made (from the performance log): url and whether it failed."""
    import json

    sent: dict[str, str] = {}
    failed: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            sent[params["requestId"]] = params["request"]["url"]
        elif msg["method"] == "Network.loadingFailed":
            failed[params["requestId"]] = params.get("errorText", "failed")
    return [
        {"url": url, "failed": rid in failed, "error": failed.get(rid)} for rid, url in sent.items()
    ]


__all__ = ["browser_available", "make_driver", "network_requests", "skip_or_fail"]
