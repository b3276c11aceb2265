"""Headless Chromium for UI tests: Debian's ``chromium`` driven by Playwright's Python API.

Playwright's own browser download does not work here; ``/usr/bin/chromium`` comes from the
``chromium`` Debian package (``.ci/run`` installs it when missing). Every step of a UI test
leaves a screenshot, and a failing step fails with the path of its screenshot.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION_TIMEOUT_MS = 45_000  # one click or wait on a busy two-core machine


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[Page]:
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`apt-get update && apt-get install -y chromium`; .ci/run does it)"
        )
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


class Steps:
    """Numbered UI steps, each ending in a screenshot under ``directory``."""

    def __init__(self, page: Page, directory: Path, logs: Mapping[str, Path]) -> None:
        self.page = page
        self.directory = directory
        self.logs = logs
        self.count = 0
        directory.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str, full_page: bool = False) -> Path:
        path = self.directory / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    @contextmanager
    def step(self, title: str, full_page: bool = False) -> Iterator[None]:
        """Run one step; screenshot it; on failure, fail naming the screenshot and logs."""
        self.count += 1
        name = f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9]+', '-', title).strip('-').lower()}"
        started = time.monotonic()
        try:
            yield
        except Exception as exc:
            path = self.shot(f"{name}-FAILED", full_page=True)
            logs = ", ".join(f"{k}: {v}" for k, v in self.logs.items())
            raise AssertionError(
                f"UI step {name} ({title}) failed: {exc}\n  screenshot: {path}\n  logs: {logs}"
            ) from exc
        self.shot(name, full_page=full_page)
        print(f"  {name}: {time.monotonic() - started:.1f}s")
