#!/usr/bin/env python3
"""make screenshots: docs/screenshots/*.png from the demo workspace, in Chromium.

Starts `scripts/devdb.py run` (the development database with the demo data, and the
development server) on a free port, logs in as the demo owner through the login page,
saves a screenshot of each main console page, copies the dashboard's to the landing
page's picture (web/static/web/screenshots/), and stops the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
LANDING = ROOT / "web" / "static" / "web" / "screenshots"
EMAIL, PASSWORD = "owner@demo.stockroom.local", "stockroom-demo-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the development server did not answer at {url}")


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "devdb.py"), "run", "--port", str(port)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_for(f"{base}/healthz")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/login/")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/app/**")
            shots = {
                "dashboard": "/app/demo/",
                "products": "/app/demo/products/?sort=-on_hand",
                "warehouses": "/app/demo/warehouses/",
            }
            for name, path in shots.items():
                page.goto(base + path)
                page.screenshot(path=str(OUT / f"{name}.png"))
            page.goto(f"{base}/app/demo/products/")
            page.locator("#product-table tbody a").first.click()
            page.wait_for_url(f"{base}/app/demo/products/*/")
            page.screenshot(path=str(OUT / "product.png"))
            page.get_by_role("link", name="Receive").click()
            page.screenshot(path=str(OUT / "receive.png"))
            browser.close()
        LANDING.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OUT / "dashboard.png", LANDING / "dashboard.png")
        print(f"screenshots in {OUT.relative_to(ROOT)}/ and {LANDING.relative_to(ROOT)}/dashboard.png")
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
