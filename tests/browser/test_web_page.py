"""The web page in a real headless Chromium (Debian's ``chromium``, driven by Playwright):
register a work → drop a clip → verdict with match thumbnail and proof → audit dashboard.

Screenshots go to the test's temp folder; with REELGUARD_UPDATE_SCREENSHOTS=1 they are
written to docs/api/ (committed).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.api import make_api, panning_clip

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"
# Read at import: the ``home`` fixture clears REELGUARD_* variables for the test itself.
UPDATE_SCREENSHOTS = os.environ.get("REELGUARD_UPDATE_SCREENSHOTS") == "1"


def _need_browser():
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright Python package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        missing = "Debian chromium is not installed (apt-get install -y chromium chromium-driver)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home, **overrides):
    """The API of ``home`` on a free loopback port, in a thread: (api, base URL, server, thread)."""
    import uvicorn

    api = make_api(home, **overrides)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for startup
        if srv.started:
            break
        time.sleep(0.05)
    return api, f"http://127.0.0.1:{port}", srv, thread


@pytest.fixture
def server(home):
    api, base, srv, thread = serve(home)
    yield api, base
    srv.should_exit = True
    thread.join(timeout=10)


def _use_key(page, token: str, role: str) -> None:
    page.fill("#api-key", token)
    page.click("#key-save")
    page.wait_for_function(f"document.querySelector('#whoami').textContent.startsWith('{role}')", timeout=10_000)


def test_upload_to_verdict_dashboard_and_registration(server, tmp_path):
    _need_browser()
    from playwright.sync_api import sync_playwright

    api, base = server
    work = panning_clip(tmp_path / "moon-walk.mp4", still="astronaut", frames=48)
    shots = DOCS if UPDATE_SCREENSHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        offsite = []
        context.on("request", lambda req: offsite.append(req.url) if not req.url.startswith((base, "data:")) else None)
        page = context.new_page()
        page.goto(base + "/")
        assert page.title() == "ReelGuard"

        # A rights holder registers a work.
        _use_key(page, api.tokens["rights-holder"], "rights-holder")
        page.click("#tab-works")
        page.fill("#work-title", "Moon Walk")
        page.set_input_files("#work-file", str(work))
        page.click("#work-submit")
        page.wait_for_selector("#work-list tbody tr", timeout=60_000)
        assert "registered Moon Walk" in page.text_content("#work-status")
        page.screenshot(path=str(shots / "works.png"), full_page=True)

        # A platform's verifier drops a re-upload of it: verdict, match thumbnail, proof.
        _use_key(page, api.tokens["verifier"], "verifier")
        page.click("#tab-verify")
        page.set_input_files("#file", str(work))
        page.wait_for_selector("#verdict:not([hidden])", timeout=60_000)
        assert page.text_content("#verdict-word") == "unknown"
        assert "near-duplicate of protected work" in page.text_content("#reasons")
        assert page.get_attribute(".match img", "src").startswith("data:image/jpeg;base64,")
        assert "Moon Walk" in page.text_content("#matches")
        assert "= moon-walk.mp4 " in page.text_content("#matches")  # the registered file that matched, and when
        assert "tree size" in page.text_content("#proof")
        page.screenshot(path=str(shots / "verify.png"), full_page=True)

        # A bad upload shows the API's clear error, not a broken page.
        bad = tmp_path / "notes.mp4"
        bad.write_text("not a video")
        page.set_input_files("#file", str(bad))
        page.wait_for_function("document.querySelector('#status').className === 'error'", timeout=20_000)
        assert "HTTP 415" in page.text_content("#status")

        # An auditor's dashboard: charts drawn as inline SVG.
        _use_key(page, api.tokens["auditor"], "auditor")
        page.click("#tab-dashboard")
        page.wait_for_selector("#chart-kinds svg rect", timeout=20_000)
        page.wait_for_selector("#events tbody tr", timeout=20_000)  # filled after the charts
        assert page.locator("#events tbody tr").count() >= 2
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
        context.close()
    assert offsite == []  # the page works offline: nothing fetched from elsewhere
