"""The verify page's small surprises, in a real headless Chromium: picking the same file again
after an error, a key entered after a 401, drag-and-drop, and anonymous use in public mode."""

from __future__ import annotations

import base64
import time

import pytest

from tests.browser.test_web_page import CHROMIUM, FLAGS, _need_browser, _use_key, serve
from tests.support.api import panning_clip


@pytest.fixture
def keyed_server(home):
    api, base, srv, thread = serve(home)
    yield api, base
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def public_server(home):
    api, base, srv, thread = serve(home, public_verify=True)
    yield api, base
    srv.should_exit = True
    thread.join(timeout=10)


def _page(pw, tmp_path):
    context = pw.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
        viewport={"width": 1100, "height": 800},
    )
    return context, context.new_page()


def _drop_file(page, selector: str, path, mime: str = "video/mp4") -> None:
    """A real ``drop`` event carrying the file in its DataTransfer, as a desktop drag makes."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    transfer = page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            return dt;
        }""",
        [data, path.name, mime],
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def _verified_count(api) -> int:
    from sqlmodel import select

    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    with session_scope(api.ctx.engine) as session:
        return sum(1 for e in session.exec(select(AuditEntry)) if e.kind == "verification")


def test_repick_after_an_error_and_a_key_entered_after_a_401(keyed_server, tmp_path):
    _need_browser()
    from playwright.sync_api import sync_playwright

    api, base = keyed_server
    clip = panning_clip(tmp_path / "clip.mp4", frames=12, size=(160, 96))
    with sync_playwright() as pw:
        context, page = _page(pw, tmp_path)
        page.goto(base + "/")
        assert page.is_hidden("#public-note")

        # No key: the API's 401, with what to do about it, and a way to try again.
        page.set_input_files("#file", str(clip))
        page.wait_for_function("document.querySelector('#status').className === 'error'", timeout=20_000)
        assert "HTTP 401" in page.text_content("#status") and "Enter an API key" in page.text_content("#status")
        assert page.is_visible("#retry")
        # The picker was cleared, so choosing the same file again is a change the browser reports.
        assert page.eval_on_selector("#file", "e => e.value") == ""

        # A key entered now re-runs the refused verification by itself.
        _use_key(page, api.tokens["verifier"], "verifier")
        page.wait_for_selector("#verdict:not([hidden])", timeout=60_000)
        assert page.text_content("#verdict-word") == "unknown"
        assert page.is_hidden("#retry") and page.is_hidden("#progress-box")
        assert _verified_count(api) == 1

        # Picking the very same file again verifies it again (not a stale result).
        page.set_input_files("#file", str(clip))
        page.wait_for_function("document.querySelector('#status').textContent.startsWith('Verified')", timeout=60_000)
        deadline = time.monotonic() + 30
        while _verified_count(api) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _verified_count(api) == 2
        assert page.eval_on_selector("#file", "e => e.value") == ""

        # "Try again" after an error re-sends the last file.
        page.evaluate("sessionStorage.removeItem('reelguard.apiKey')")
        page.set_input_files("#file", str(clip))
        page.wait_for_function("document.querySelector('#status').className === 'error'", timeout=20_000)
        page.evaluate(f"sessionStorage.setItem('reelguard.apiKey', {api.tokens['verifier']!r})")
        page.click("#retry")
        page.wait_for_selector("#verdict:not([hidden])", timeout=60_000)
        assert _verified_count(api) == 3
        context.close()


def test_drag_and_drop_in_public_mode_without_a_key(public_server, tmp_path, monkeypatch):
    _need_browser()
    import governance.flows
    from playwright.sync_api import sync_playwright

    api, base = public_server
    real_verify = governance.flows.verify

    def slow_verify(*args, **kwargs):  # a long verification, so its progress can be seen
        time.sleep(2.5)
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(governance.flows, "verify", slow_verify)
    clip = panning_clip(tmp_path / "dropped.mp4", frames=12, size=(160, 96))
    with sync_playwright() as pw:
        context, page = _page(pw, tmp_path)
        page.goto(base + "/")
        assert page.is_visible("#public-note")

        _drop_file(page, "#drop", clip)
        # While the server works: an indeterminate bar and a running clock.
        page.wait_for_function("document.querySelector('#progress-text').textContent.startsWith('analysing')",
                               timeout=20_000)
        assert page.is_visible("#progress-box") and page.get_attribute("#progress", "value") is None
        page.wait_for_selector("#verdict:not([hidden])", timeout=60_000)
        assert page.is_hidden("#progress-box")
        assert page.text_content("#verdict-word") == "unknown"
        assert "Verified dropped.mp4" in page.text_content("#status")
        assert _verified_count(api) == 1

        # Dropping the same file again runs again.
        _drop_file(page, "#drop", clip)
        deadline = time.monotonic() + 30
        while _verified_count(api) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _verified_count(api) == 2
        context.close()
