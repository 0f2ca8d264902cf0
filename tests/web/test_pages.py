"""The web pages over plain HTTP (every form) and in headless Chromium (every page)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import ROOT, Daemon, document, wait_for
from tests.web.browser import Browser

PASSWORD = "correct horse battery"
PAGES = {
    "/": ["Status", "Ready to print", "Black Toner", "Alert log", "Printer started"],
    "/jobs": ["Queue", "History"],
    "/settings": ["Printer settings", "Printbridge Test Laser", "Protocols"],
    "/network": ["Host name", "DNS-SD name", "Printer URI"],
    "/security": ["Administrator password", "SNMP"],
    "/maintenance": ["Maintenance"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("web"), options={"rate": "0"})
    subprocess.run([sys.executable, "-m", "firmware", "passwd", "admin", "--stdin",
                    "--config", str(daemon.config)], input=PASSWORD, text=True, check=True,
                   cwd=ROOT, capture_output=True)
    daemon.start()
    yield daemon
    daemon.stop()


def test_every_page_renders_without_login(server: Daemon) -> None:
    browser = Browser(server.ipp_port)
    for path, texts in PAGES.items():
        status, body, _ = browser.request(path)
        assert status == 200, path
        for text in texts:
            assert text in body, (path, text)
        assert "<script" not in body  # usable without JavaScript


def test_nothing_changes_without_login(server: Daemon) -> None:
    browser = Browser(server.ipp_port)
    before = server.status()
    for path in ("/settings", "/maintenance/test-page", "/maintenance/identify",
                 "/security/password", "/jobs/1/cancel"):
        status, _, _ = browser.request(path, {"location": "hacked", "csrf": "x"})
        assert status == 401, path
    assert browser.request("/maintenance/log")[0] == 401
    assert browser.login("wrong password") == 303
    assert browser.request("/maintenance/test-page", {"csrf": "x"})[0] == 401
    after = server.status()
    assert after["jobs"] == before["jobs"]
    assert "hacked" not in browser.request("/settings")[1]


def test_forged_post_without_csrf_is_refused(server: Daemon) -> None:
    browser = Browser(server.ipp_port)
    assert browser.login(PASSWORD) == 303
    for form in ({"location": "forged"}, {"location": "forged", "csrf": "not-the-token"}):
        status, _, _ = browser.request("/settings", form)
        assert status == 403
    assert "forged" not in browser.request("/settings")[1]


def test_admin_forms_work(server: Daemon) -> None:
    browser = Browser(server.ipp_port)
    assert browser.login(PASSWORD) == 303
    csrf = browser.csrf()
    status, _, location = browser.request("/settings", {
        "csrf": csrf, "location": "Room 7", "info": "Lobby laser", "organization": "ACME",
        "geo_location": "geo:52.1,4.3"})
    assert status == 303 and "Settings%20saved" in location
    assert 'value="Room 7"' in browser.request("/settings")[1]
    # Print a test page, identify, restart.
    status, _, location = browser.request("/maintenance/test-page", {"csrf": csrf})
    assert status == 303
    job_id = int(re.search(r"job%20(\d+)", location).group(1))  # type: ignore[union-attr]
    server.wait_job(job_id)
    assert browser.request("/maintenance/identify", {"csrf": csrf})[0] == 303
    assert "identify-printer-requested" in server.status()["reasons"]
    assert browser.request("/maintenance/restart", {"csrf": csrf})[0] == 303
    status, log, _ = browser.request("/maintenance/log")
    assert status == 200 and "printbridge" in log
    # Hold, release and cancel a queued job from the jobs page.
    server.emulate("offline")
    path = server.state_dir / "queued.prn"
    path.write_bytes(document(2000, seed=61))
    first = server.print_file(path)
    second = server.print_file(path)
    wait_for(lambda: server.job(first)["state"] == "processing-stopped", 10, "first stuck")
    assert browser.request(f"/jobs/{second}/hold", {"csrf": csrf})[0] == 303
    assert server.job(second)["state"] == "pending-held"
    assert "Release" in browser.request("/jobs")[1]
    assert browser.request(f"/jobs/{second}/release", {"csrf": csrf})[0] == 303
    assert browser.request(f"/jobs/{first}/cancel", {"csrf": csrf})[0] == 303
    server.emulate("clear")
    wait_for(lambda: server.job(first)["state"] == "canceled", 10, "first canceled")
    server.wait_job(second)
    # Password change: the old one stops working.
    new = "a brand new secret"
    status, _, location = browser.request("/security/password", {
        "csrf": csrf, "current": PASSWORD, "new": new})
    assert status == 303 and "Password%20changed" in location
    assert Browser(server.ipp_port).login(PASSWORD) == 303  # redirected back with an error ...
    fresh = Browser(server.ipp_port)
    fresh.login(PASSWORD)
    assert fresh.request("/maintenance/identify", {"csrf": "x"})[0] == 401  # ... no session
    restore = Browser(server.ipp_port)
    restore.login(new)
    restore.request("/security/password", {"csrf": restore.csrf(), "current": new,
                                           "new": PASSWORD})


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is not installed (make test installs it)"
    return path


def headless(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-quic", f"--user-data-dir={profile}",
             "--window-size=1000,900", *extra, url],
            capture_output=True, text=True, timeout=60,
        )


def test_chromium_renders_every_page(server: Daemon, tmp_path: Path) -> None:
    """Every page's DOM as Chromium builds it, and a screenshot of it that this run's
    Chromium wrote (in this test's own directory, which nothing wrote before)."""
    for path, texts in PAGES.items():
        url = f"http://127.0.0.1:{server.ipp_port}{path}"
        dom = headless(url, "--dump-dom")
        assert dom.returncode == 0, (path, dom.stderr[-3000:])
        for text in texts:
            assert text in dom.stdout, (path, text)
        name = path.strip("/") or "status"
        shot = tmp_path / f"web-{name}.png"
        assert not shot.exists()
        result = headless(url, f"--screenshot={shot}")
        assert result.returncode == 0, (path, result.stderr[-3000:])
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", path
        assert struct.unpack(">II", png[16:24]) == (1000, 900), path  # --window-size
        assert len(png) > 5000, (path, len(png))
