"""The dashboard as a person uses it: Chromium (Debian's) against a real server on loopback.

Log in, see the overview's charts drawn, open a rep's queue, open a lead, log a touch, see its
clock stop. Set LEADPACT_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.web.conftest import PASSWORD, SQL_LEAD, build

CHROMIUM = Path("/usr/bin/chromium")
#: The overview draws charts when `reports.charts` (the chart specs) is installed.
CHARTS = importlib.util.find_spec("leadpact.reports.charts") is not None
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="browser tests need Debian's chromium (.ci/run installs it)"
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import httpx2

    for _ in range(300):
        if server.poll() is not None:
            pytest.fail(f"the server stopped: {log.read_text(errors='replace')}")
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer: {log.read_text(errors='replace')}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`leadpact serve` on a free loopback port over a workspace whose data ends now."""
    directory = tmp_path / "workspace"
    build(directory, datetime.now(UTC).replace(microsecond=0))
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "LEADPACT_SESSION_SECRET": "browser-test", "LEADPACT_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "leadpact", "serve", "-w", str(directory)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-scheduler"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{url}/healthz", process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _shot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("LEADPACT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_rep_logs_in_works_the_queue_and_stops_a_clock(server: str, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{server}/")
            expect(page).to_have_url(f"{server}/login?next=%2F")
            page.get_by_label("Username").fill("sales")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            expect(page.get_by_test_id("kpi").first).to_be_visible()
            if CHARTS:
                page.locator("#chart-waterfall svg").first.wait_for()
                page.locator("#chart-speed svg").first.wait_for()
            _shot(page, "overview", tmp_path)

            page.get_by_role("link", name="Queues").click()
            page.get_by_role("link", name="Sofie Dahl").click()
            expect(page.get_by_role("heading", name="Queue of Sofie Dahl")).to_be_visible()
            expect(page.get_by_test_id("queue-row").first).to_be_visible()
            countdown = page.locator(f"tr:has(a[href='/leads/{SQL_LEAD}']) .countdown")
            expect(countdown).not_to_be_empty()
            _shot(page, "queue", tmp_path)

            page.locator(f"a[href='/leads/{SQL_LEAD}']").first.click()
            name = page.get_by_test_id("lead-name")
            expect(name).to_have_text("<script>alert(1)</script> Tester")
            clock = page.locator("tr[data-commitment='sql-response'] [data-testid=clock-status]")
            expect(clock).to_have_text("Pending")
            form = page.get_by_test_id("touch-form")
            form.get_by_label("Channel").select_option("call")
            form.get_by_label("Outcome").select_option("connected")
            form.get_by_label("Note").fill("Good first call")
            form.get_by_role("button", name="Log touch").click()

            expect(page.get_by_role("status")).to_have_text("Touch logged.")
            expect(clock).to_have_text("Met")
            expect(page.get_by_test_id("timeline")).to_contain_text("Call: connected")
            _shot(page, "lead", tmp_path)
        finally:
            browser.close()
