"""Property-based fuzzing of every operation in /openapi.json (schemathesis): never a 5xx.

Below it, hostile uploads: multipart bodies built to exhaust the parser (300,000 fields, huge
boundaries and headers, unterminated parts), the mutant media corpus of tests/test_fuzz_media.py,
and the peak memory of a real server process per hostile request (see docs/robustness.md).
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[test]' (schemathesis)")
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.support.api import make_api, redis_or_skip  # noqa: E402


@pytest.fixture
def api(home, monkeypatch):
    redis_or_skip()  # /api/generate publishes jobs; a private queue keeps them off real workers
    queue = f"reelguard.fuzz.{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REELGUARD_QUEUE", queue)
    # A heartbeat on the private queue, so /api/generate queues (503 no-worker is tested elsewhere).
    from governance.service.jobs.heartbeat import Heartbeat

    beat = Heartbeat("redis://127.0.0.1:6379/0", name=f"fuzz-{queue}", queues=(queue,), interval_s=1).start()
    try:
        yield make_api(home)
    finally:
        beat.stop()
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/0").delete(queue)


def test_no_server_errors(api):
    """Any request the schema allows (and many it does not) gets a non-5xx JSON answer as admin."""
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = {"X-API-Key": api.tokens["admin"]}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    seen: Counter[int] = Counter()

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            # The first policy check loads the packs and indexes inside the request (about 10 s on a
            # busy 2-core machine): a slow first answer is not what this test looks for.
            response = case.call(headers=headers, timeout=60)
            seen[response.status_code] += 1
            where = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.json()["error"]["request_id"], where

        check()
    assert sum(n for code, n in seen.items() if code < 300) > 20, seen  # the fuzzer got past auth and validation
    assert seen[401] == 0 and seen[403] == 0, seen


# -- hostile uploads (no Redis needed) ---------------------------------------------------------
# These run without schemathesis' strategies: the corpus and the bombs come from
# tests/test_fuzz_media.py, the hostile multipart bodies are written by hand below.

_BOUNDARY = b"fuzzboundary"
_CTYPE = "multipart/form-data; boundary=fuzzboundary"


def _part(name: str, data: bytes, *, filename: str | None = None, ctype: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"Content-Disposition: {disposition}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
    return b"--" + _BOUNDARY + b"\r\n" + head.encode() + b"\r\n" + data + b"\r\n"


def _end() -> bytes:
    return b"--" + _BOUNDARY + b"--\r\n"


def _many_fields(n: int, size: int = 1000):
    """A chunked body of ``n`` text fields of ``size`` bytes, then a file part."""
    value = b"x" * size
    for i in range(n):
        yield _part(f"f{i}", value)
    yield _part("file", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, filename="a.png", ctype="image/png") + _end()


@pytest.fixture
def upload_api(home):
    yield make_api(home)


def _assert_clean(response, where: str, expect: set[int] | None = None) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    if expect is not None:
        assert response.status_code in expect, f"{where}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.json()["error"]["request_id"], where


HOSTILE_MULTIPART = {
    # name: (body, content-type, statuses, error code)
    "300000-fields": (lambda: _many_fields(300_000), _CTYPE, {413}, "too-many-parts"),
    "text-over-64KiB": (lambda: _many_fields(20, 4000), _CTYPE, {413}, "too-large"),
    "field-over-4KiB": (lambda: _many_fields(1, 5000), _CTYPE, {413}, "too-large"),
    "boundary-71": (lambda: _end(), "multipart/form-data; boundary=" + "b" * 71, {400}, "bad-multipart"),
    "boundary-100k": (lambda: _end(), "multipart/form-data; boundary=" + "b" * 100_000, {400}, "bad-multipart"),
    "boundary-bad-chars": (lambda: _end(), 'multipart/form-data; boundary="a\x7fb"', {400}, "bad-multipart"),
    "many-headers": (lambda: b"--" + _BOUNDARY + b"\r\n" + b"X-A: b\r\n" * 1000 + b"\r\n" + b"v\r\n" + _end(),
                     _CTYPE, {400, 413}, None),  # the parser counts headers too (400 bad-multipart)
    "huge-header": (lambda: b"--" + _BOUNDARY + b"\r\nX-A: " + b"h" * 100_000 + b"\r\n\r\nv\r\n" + _end(),
                    _CTYPE, {400, 413}, None),  # the parser's own header-line limit may answer first
    "header-block-12KiB": (lambda: b"--" + _BOUNDARY + b"\r\n" + (b"X-A: " + b"h" * 4000 + b"\r\n") * 3
                           + b"\r\nv\r\n" + _end(), _CTYPE, {413}, "part-headers-too-large"),
    "unterminated-file": (lambda: _part("file", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, filename="a.png")[:-2],
                          _CTYPE, {400}, "truncated"),
    "unterminated-headers": (lambda: b"--" + _BOUNDARY + b"\r\nContent-Disposition: form-da", _CTYPE, {422}, None),
    "no-parts": (lambda: b"garbage without any boundary", _CTYPE, {400}, "bad-multipart"),
    "nul-in-headers": (lambda: b"--" + _BOUNDARY + b"\r\nContent-Disposition: \x00\xff\r\n\r\nv\r\n" + _end(),
                       _CTYPE, {400, 422}, None),
}


@pytest.mark.parametrize("route", ["/api/verify", "/api/registry/works"])
@pytest.mark.parametrize("name", sorted(HOSTILE_MULTIPART))
def test_hostile_multipart_gets_a_clear_4xx(upload_api, route, name):
    """Each hostile multipart body gets its own 4xx and error code (chunked: no Content-Length)."""
    make, ctype, statuses, code = HOSTILE_MULTIPART[name]
    body = make()
    content = body if not isinstance(body, bytes) else iter([body])  # a generator: sent chunked
    role = "verifier" if route == "/api/verify" else "rights-holder"
    response = upload_api.client.post(route, content=content, headers={**upload_api.h(role), "content-type": ctype})
    _assert_clean(response, f"{route} {name}", statuses)
    if code is not None:
        assert response.json()["error"]["code"] == code, response.text


def test_fuzzed_media_uploads_never_get_a_500(upload_api, tmp_path):
    """A sample of the mutant corpus and the bombs through /api/verify, /api/verify?only=c2pa and
    /api/registry/works: a result or a 4xx, never a 500. Registration refuses the bombs naming
    their declared size (verification of an image reads its credentials only: no pixels)."""
    from tests.test_fuzz_media import SUFFIX, corpus, jpeg_bomb, png_bomb, sample, seeds, webp_bomb

    picked = sample(corpus(seeds(tmp_path / "seeds")), 1)
    picked += [("jpeg", "bomb", jpeg_bomb()), ("png", "bomb", png_bomb()), ("webp", "bomb", webp_bomb())]
    seen: Counter[int] = Counter()
    for i, (fmt, label, data) in enumerate(picked):
        name = f"m{i}{SUFFIX[fmt]}"
        for route, role, form in (("/api/verify", "verifier", {}), ("/api/verify?only=c2pa", "verifier", {}),
                                  ("/api/registry/works", "rights-holder", {"title": f"{fmt} {label}"})):
            response = upload_api.client.post(route, files={"file": (name, data, "application/octet-stream")},
                                              data=form, headers=upload_api.h(role))
            seen[response.status_code] += 1
            _assert_clean(response, f"{route} {fmt} {label}")
            if label == "bomb" and route == "/api/registry/works" and fmt != "webp":  # refused from the header
                assert response.status_code in (413, 422) and "x" in response.json()["error"]["message"]
                assert {"jpeg": "30000x30000", "png": "32000x32000", "webp": "16384x16384"}[fmt] in response.text
    assert seen[200] and seen[422], seen


_SERVER = """
import sys, uvicorn
from governance.core.settings import get_settings
from governance.service.api import create_app
uvicorn.run(create_app(get_settings(home=sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_server_peak_memory_per_hostile_request_is_under_1_gb(home, tmp_path):
    """Peak memory of a real API server (uvicorn in a child process, loopback) for the JPEG and
    PNG bombs through /api/registry/works and /api/verify, and for 300,000 x 1 KB form fields sent
    chunked: ``VmHWM`` of the server process (its peak resident set, /proc/PID/status) after each
    request minus before it. Before the limits: +5.2 GB (JPEG), +5.9 GB (PNG), +0.25 GB (fields)."""
    import http.client
    import socket
    import subprocess
    import sys
    import time

    from tests.test_fuzz_media import jpeg_bomb, png_bomb

    api = make_api(home)  # creates the database and the API keys the server will read
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[3]
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(home), str(port)], cwd=root)
    try:
        def post(path: str, role: str, body, ctype: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"X-API-Key": api.tokens[role], "Content-Type": ctype}
            if isinstance(body, bytes):
                conn.request("POST", path, body=body, headers=headers)
            else:
                conn.request("POST", path, body=body, headers=headers, encode_chunked=True)
            try:
                status = conn.getresponse().status
            except (ConnectionError, http.client.RemoteDisconnected):
                status = 413  # the server answered and closed while the client was still sending
            conn.close()
            return status

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        warm = _part("title", b"t") + _part("file", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, filename="w.png") + _end()
        post("/api/registry/works", "rights-holder", warm, _CTYPE)  # imports and first-request costs
        peaks = {}
        for name, path, role, body in (
            ("jpeg-bomb", "/api/registry/works", "rights-holder",
             _part("title", b"t") + _part("file", jpeg_bomb(), filename="b.jpg") + _end()),
            ("png-bomb", "/api/registry/works", "rights-holder",
             _part("title", b"t") + _part("file", png_bomb(rows=None), filename="b.png") + _end()),
            ("jpeg-bomb-verify", "/api/verify", "verifier", _part("file", jpeg_bomb(), filename="b.jpg") + _end()),
            ("300000-fields", "/api/verify", "verifier", _many_fields(300_000)),
        ):
            before = _vm_hwm_kib(server.pid)
            status = post(path, role, body, _CTYPE)
            peaks[name] = (status, (_vm_hwm_kib(server.pid) - before) / 1024)
        for name, (status, peak_mb) in peaks.items():
            assert status < 500, peaks
            assert peak_mb < 1024, peaks
        assert peaks["jpeg-bomb"][0] in (413, 422) and peaks["png-bomb"][0] in (413, 422), peaks
        assert peaks["300000-fields"][0] == 413, peaks
        print("server peak MB per request:", {k: round(v[1], 1) for k, v in peaks.items()})
    finally:
        server.terminate()
        server.wait(timeout=30)
