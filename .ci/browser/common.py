"""Shared by the browser scripts: launching Debian's chromium through
Playwright (the `playwright` Python package, pinned in .ci/browser/python.sh;
its own browser download is never used, the Debian binary is launched)."""

import os

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """Headless chromium from the system, not from Playwright's cache."""
    return playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        headless=True,
        chromium_sandbox=False,
        args=CHROMIUM_ARGS,
    )
