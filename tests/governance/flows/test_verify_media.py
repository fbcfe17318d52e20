"""Any media a platform receives: images of any size, audio, sidecars, a bare .c2pa, remote
manifests (fetched only when enabled, from loopback here), and the HTTP API taking the same."""

from __future__ import annotations

import http.server
import json
import threading
import time
import wave
from pathlib import Path

import c2pa
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from governance.core.settings import get_settings
from governance.flows import FlowContext, VerifyOptions, verify
from governance.provenance.keys import load_or_create_identity
from governance.service.cli.main import app

runner = CliRunner()
DEFINITION = {
    "claim_generator_info": [{"name": "Test Camera App", "version": "1.0"}],
    "title": "asset",
    "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
        {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}],
}


def _jpeg(path: Path, width: int = 64, height: int = 48) -> Path:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    path.write_bytes(data.tobytes())
    return path


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(np.zeros(800, np.int16).tobytes())
    return path


def _sign(home: Path, src: Path, dst: Path, mime: str, *, remote_url: str | None = None, embed: bool = True) -> bytes:
    """Sign ``src`` with the home's identity (time-stamp-free: these tests are about media)."""
    identity = load_or_create_identity(get_settings(home=home))
    signer = identity.c2pa_signer()
    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                                      "core": {"allowed_network_hosts": []}})
    builder = c2pa.Builder(DEFINITION, context=context)
    try:
        if not embed:
            builder.set_no_embed()
        if remote_url:
            builder.set_remote_url(remote_url)
        with open(src, "rb") as source, open(dst, "w+b") as target:
            return builder.sign(signer, mime, source, target)
    finally:
        builder.close(), signer.close(), context.close()


@pytest.fixture
def ctx(home):
    context = FlowContext(get_settings(), semantic_policy=False)
    yield context
    context.close()


def test_signed_image_is_authentic_and_never_decoded(ctx, home, tmp_path, monkeypatch):
    signed = tmp_path / "photo.jpg"
    _sign(home, _jpeg(tmp_path / "src.jpg"), signed, "image/jpeg")
    import detectors.video_io as video_io

    monkeypatch.setattr(video_io, "probe", lambda *a, **k: pytest.fail("an image's pixels were decoded"))
    report = verify(ctx, signed)
    assert (report.verdict, report.provenance.media_kind, report.watermark) == ("authentic", "image", None)
    assert report.provenance.disclosure.ai_generated is False
    assert report.provenance.disclosure.label.startswith("Camera capture")


def test_huge_declared_image_is_read_for_credentials_only(ctx, tmp_path):
    """A 691-byte JPEG declaring 30000x30000: credentials are read, nothing is decoded."""
    data = bytearray(_jpeg(tmp_path / "small.jpg", 8, 8).read_bytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (30000).to_bytes(2, "big") * 2  # height, width
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(bytes(data))
    report = verify(ctx, huge)
    assert report.provenance.state == "absent" and report.verdict == "unknown"


def test_tiny_image_keeps_its_credentials(ctx, home, tmp_path):
    signed = tmp_path / "tiny.jpg"
    _sign(home, _jpeg(tmp_path / "src.jpg", 1, 1), signed, "image/jpeg")
    assert verify(ctx, signed).verdict == "authentic"


def test_signed_audio_is_verified(ctx, home, tmp_path):
    signed = tmp_path / "voice.wav"
    _sign(home, _wav(tmp_path / "src.wav"), signed, "audio/wav")
    report = verify(ctx, signed)
    assert (report.verdict, report.provenance.media_kind, report.stages) == ("authentic", "audio", ("c2pa",))


def test_sidecars_found_automatically_explicitly_and_alone(ctx, home, tmp_path):
    src = _jpeg(tmp_path / "photo.jpg")
    store = _sign(home, src, tmp_path / "scratch.jpg", "image/jpeg", embed=False)
    other = tmp_path / "elsewhere" / "renamed.c2pa"
    other.parent.mkdir()
    other.write_bytes(store)
    assert verify(ctx, src).verdict == "unknown"  # nothing embedded, no sidecar beside it
    assert verify(ctx, src, options=VerifyOptions(manifest=other)).verdict == "authentic"  # --manifest
    (tmp_path / "photo.c2pa").write_bytes(store)
    assert verify(ctx, src).provenance.source == "sidecar"  # <stem>.c2pa found automatically
    alone = verify(ctx, other)  # the bare store: signature and trust, binding not checkable
    assert alone.provenance.state == "trusted" and alone.verdict == "unverifiable"
    cli = runner.invoke(app, ["verify", str(src), "--manifest", str(other), "--json"])
    assert cli.exit_code == 0 and json.loads(cli.stdout)["verdict"] == "authentic"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def loopback():
    """A loopback server: ``serve[path] = bytes``; ``hang`` paths never answer."""
    served: dict[str, bytes] = {}
    hang: set[str] = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path in hang:
                time.sleep(5)
                return
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            return

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served, hang
    server.shutdown()
    server.server_close()


def test_remote_manifest_only_when_enabled(home, tmp_path, loopback):
    base, served, hang = loopback
    asset = tmp_path / "remote.jpg"
    served["/m.c2pa"] = _sign(home, _jpeg(tmp_path / "src.jpg"), asset, "image/jpeg", remote_url=f"{base}/m.c2pa",
                              embed=False)
    off = FlowContext(get_settings(), semantic_policy=False)
    report = verify(off, asset)
    assert report.verdict == "unverifiable" and report.provenance.codes == ("manifest.inaccessible",)
    assert report.provenance.remote_url == f"{base}/m.c2pa"
    on = FlowContext(get_settings(remote_manifests=True, remote_manifest_hosts=["127.0.0.1"],
                                  remote_manifest_allow_loopback=True, remote_manifest_https_only=False),
                     semantic_policy=False)
    fetched = verify(on, asset)
    assert (fetched.verdict, fetched.provenance.source) == ("authentic", "remote") and "remote-manifest" in fetched.flags
    hang.add("/m.c2pa")
    slow = FlowContext(get_settings(remote_manifests=True, remote_manifest_hosts=["127.0.0.1"],
                                    remote_manifest_allow_loopback=True, remote_manifest_https_only=False,
                                    remote_manifest_timeout_s=1.0), semantic_policy=False)
    started = time.monotonic()
    timed_out = verify(slow, asset)
    assert time.monotonic() - started < 4
    assert timed_out.verdict == "unverifiable" and "remote.timeout" in (timed_out.provenance.error or "")


def test_remote_manifest_host_must_be_allowed(home, tmp_path):
    asset = tmp_path / "remote.jpg"
    _sign(home, _jpeg(tmp_path / "src.jpg"), asset, "image/jpeg", remote_url="https://10.0.0.7/m.c2pa", embed=False)
    ctx = FlowContext(get_settings(remote_manifests=True, remote_manifest_hosts=["manifests.example.com"]),
                      semantic_policy=False)
    report = verify(ctx, asset)
    assert report.verdict == "unverifiable" and "remote.not-allowed-host" in report.provenance.error


def test_api_verifies_images_audio_and_triage(home, tmp_path):
    from tests.support.api import make_api

    api = make_api(home)
    signed = tmp_path / "photo.jpg"
    _sign(home, _jpeg(tmp_path / "src.jpg"), signed, "image/jpeg")
    r = api.client.post("/api/verify", files={"file": ("blob", signed.read_bytes(), "application/octet-stream")},
                        headers=api.h("verifier"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["verdict"], body["media_kind"], body["watermark"]) == ("authentic", "image", None)
    assert body["disclosure"]["ai_generated"] is False and body["c2pa"]["issuer"]
    wav = tmp_path / "voice.wav"
    _sign(home, _wav(tmp_path / "src.wav"), wav, "audio/wav")
    r = api.client.post("/api/verify", files={"file": ("voice.wav", wav.read_bytes(), "audio/wav")},
                        headers=api.h("verifier"))
    assert r.status_code == 200 and r.json()["media_kind"] == "audio"
    r = api.client.post("/api/verify?only=bogus", files={"file": ("blob", signed.read_bytes(), "image/jpeg")},
                        headers=api.h("verifier"))
    assert r.status_code == 422


def test_batch_runs_the_chosen_stages_and_reports_each_files_error(ctx, home, tmp_path):
    from governance.service.jobs.batch import verify_many

    signed = tmp_path / "photo.jpg"
    _sign(home, _jpeg(tmp_path / "src.jpg"), signed, "image/jpeg")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"junk" * 100)  # a leaf package's MediaError: reported for its file, not raised
    clip = tmp_path / "clip.mp4"
    from tests.c2pa_ts.support import make_clip

    make_clip(clip, frames=6)
    results = verify_many([signed, junk, clip], workers=1, settings=ctx.settings, stages=["c2pa"])
    assert results[0]["verdict"] == "authentic"
    assert results[1]["exit_code"] == 21 and "error" in results[1]
    assert results[2]["verdict"] == "unknown" and results[2]["watermark"] is None  # credentials only


def test_cli_json_is_compact_unless_verbose(home, tmp_path):
    signed = tmp_path / "photo.jpg"
    _sign(home, _jpeg(tmp_path / "src.jpg"), signed, "image/jpeg")
    compact = runner.invoke(app, ["verify", str(signed), "--json"])
    full = runner.invoke(app, ["verify", str(signed), "--json", "--verbose"])
    assert compact.exit_code == full.exit_code == 0
    short, long = json.loads(compact.stdout), json.loads(full.stdout)
    assert short["verdict"] == long["verdict"] == "authentic"
    assert "informational" not in short["c2pa"] and "informational" in long["c2pa"]
    assert len(compact.stdout) < len(full.stdout)


def test_a_claim_signed_with_our_tsa_certificate_is_never_a_release(ctx, home, tmp_path):
    """c2pa-rs accepts a timeStamping-only certificate as a claim signer; the install's TSA key
    sits in the signing process, so a claim it signed must not verify authentic."""
    import dataclasses

    from cryptography.hazmat.primitives import serialization

    from governance.provenance.keys.backend import FileSigningBackend
    from governance.provenance.signing import sign_video
    from governance.provenance.timestamp.server import load_or_create_tsa
    from tests.c2pa_ts.support import make_clip, make_spec

    identity = load_or_create_identity(ctx.settings)
    key, cert, _ = load_or_create_tsa(ctx.settings)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    tsa_identity = dataclasses.replace(identity, chain_pem=pem, backend=FileSigningBackend.from_key(key),
                                       signer="tsa", tsa_url=None)
    signed = sign_video(make_clip(tmp_path / "c.mp4", frames=4), tmp_path / "s.mp4", spec=make_spec(),
                        identity=tsa_identity)
    report = verify(ctx, signed.path, options=VerifyOptions(stages=frozenset({"c2pa"})))
    assert report.provenance.state == "trusted"  # what c2pa-rs says
    assert report.verdict == "unverifiable" and "unrecorded-release" in report.flags
