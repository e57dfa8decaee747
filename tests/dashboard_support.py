"""Browser-test support for the dashboard: headless Chromium through dash[testing].

The ``duo`` fixture is ``dash_duo`` with what this machine needs built in
(Debian's ``chromium`` and ``chromium-driver``, headless, no sandbox), and a
free port per test instead of dash_duo's fixed 58050, so that test runs of
several people on one machine do not collide.  No ``conftest.py`` hook and no
``--headless`` option are needed.  Tests skip (with the reason) when Chromium
or chromedriver is missing; ``make test`` installs them.

Each browser test saves a screenshot under ``tests/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--no-default-browser-check", "--window-size=1280,1600")


def have_browser() -> bool:
    return Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chrome_options():
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    return opts


@pytest.fixture
def duo(tmp_path):
    """A ``DashComposite`` (the object ``dash_duo`` gives) on headless Chromium and a free port.

    Use ``duo.start_server(app, port=duo.port)``.
    """
    if not have_browser():
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (make test installs chromium and chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ["PATH"] = f"{Path(CHROMEDRIVER).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from dash.testing.application_runners import ThreadedRunner
    from dash.testing.composite import DashComposite

    with ThreadedRunner() as server, DashComposite(server, browser="chrome", headless=False,
                                                   options=[chrome_options()],
                                                   download_path=str(tmp_path / "download"), percy_run=False,
                                                   percy_finalize=False) as dc:
        dc.port = free_port()
        yield dc


def screenshot(duo, name: str) -> Path:
    """Save the page as ``tests/screenshots/<name>.png`` and return the path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    ignore = SCREENSHOTS / ".gitignore"
    if not ignore.exists():  # the folder ignores itself: screenshots are never committed
        ignore.write_text("*\n")
    path = SCREENSHOTS / f"{name}.png"
    duo.driver.save_screenshot(str(path))
    return path


def console_errors(duo) -> list[dict]:
    """Browser console messages of level SEVERE since the last call (favicon requests excluded)."""
    return [e for e in duo.get_logs() or [] if "favicon" not in e.get("message", "")]
