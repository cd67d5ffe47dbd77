"""Debian's Chromium driven by Playwright (no browser download): one browser per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.portal_stub import Stub, serve_portal, session_script, stubbed_page

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    # A missing browser is a broken set-up (make test installs it), never a reason to skip.
    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed: run `make chromium`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    """The portal's files served locally, once per module."""
    with serve_portal() as url:
        yield url


@pytest.fixture
def page(chromium: Browser, stub: Stub) -> Iterator[Page]:
    """A page on `stub` (each module's fixture: the portal and its API answers) signed in as a partner admin."""
    with stubbed_page(chromium, stub, session=session_script()) as page:
        yield page
