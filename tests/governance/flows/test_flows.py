"""The full gated chain on the embedded model with real C2PA signing and reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from detectors.errors import MediaError
from detectors.video_io import probe, read_clip, remux, write_video
from governance.core.errors import OutputExistsError, PolicyDenied
from governance.flows import FlowContext, GenerateRequest, generate, verify
from governance.core.settings import get_settings

SAFE_PROMPT = "a red circle moving right on a blue background"
DENIED_PROMPT = "Mickey Mouse dancing in a castle"
# Small and short keeps the suite fast; large enough for the watermark's reliable range.
GEN_KW = dict(num_frames=16, width=256, height=256)


def make_context(home: Path, **overrides) -> FlowContext:
    return FlowContext(get_settings(home=home, **overrides), semantic_policy=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One generation shared by the verification tests of this module."""
    root = tmp_path_factory.mktemp("flow")
    ctx = make_context(root / "home")
    outcome = generate(ctx, GenerateRequest(prompt=SAFE_PROMPT, output=root / "clip.mp4", seed=7, **GEN_KW))
    return ctx, outcome, root


def test_generation_is_signed_watermarked_recorded_and_logged(generated):
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecord

    ctx, outcome, _root = generated
    assert outcome.output.is_file()
    info = probe(outcome.output)
    assert (info.codec, info.width, info.height) == ("h264", 256, 256)
    assert outcome.decision.allowed
    assert len(outcome.payload_hex) == 16 and outcome.content_id == outcome.payload_hex
    with session_scope(ctx.engine) as session:
        record = session.exec(select(GenerationRecord)).one()
        kinds = [row.kind for row in session.exec(select(AuditEntry).order_by(AuditEntry.leaf_index))]
    assert record.content_id == outcome.content_id
    assert record.manifest_digest == outcome.manifest_digest
    assert record.pack_digest == outcome.decision.pack_digest
    assert record.weights_digest == outcome.model_record.weights_digest
    assert kinds == [
        "policy.decision",
        "generation.generated",
        "generation.watermarked",
        "generation.signed",
        "generation.registry_check",
        "generation.recorded",
        "registry.change",  # our own output's fingerprints, stored with the record (issue 21)
    ]
    # no temp files left beside the output
    assert sorted(p.name for p in outcome.output.parent.iterdir() if p.name.startswith(".")) == []


def test_own_output_verifies_authentic(generated):
    ctx, outcome, _root = generated
    report = verify(ctx, outcome.output)
    assert report.provenance.state == "trusted"
    assert report.provenance.claims_ai_generated
    assert report.watermark.detected
    assert report.watermark.payload.hex() == outcome.payload_hex
    assert report.record is not None and report.record.content_id == outcome.content_id
    assert report.verdict == "authentic", report.reasons
    assert report.flags == ("ai-generated",)
    assert report.provenance.time_stamped and report.provenance.timestamp_trusted  # time-stamped by default
    assert report.provenance.disclosure.ai_generated is True
    assert report.provenance.disclosure.label.startswith("Made with AI: ")


def test_stripped_manifest_is_recovered_by_watermark(generated):
    ctx, outcome, root = generated
    stripped = remux(outcome.output, root / "stripped.mp4")
    report = verify(ctx, stripped)
    assert report.provenance.state == "absent"
    assert report.watermark.detected
    assert report.verdict == "recovered", report.reasons
    assert report.record.content_id == outcome.content_id
    assert report.recovered_manifest is not None
    disclosure = report.to_dict()["disclosure"]  # the record speaks where the credentials were stripped
    assert disclosure["ai_generated"] is True and "recovered from the watermark" in disclosure["label"]


def test_reencoded_copy_is_recovered(generated):
    ctx, outcome, root = generated
    frames = read_clip(outcome.output)
    copy = write_video(root / "reencoded.mp4", frames, fps=outcome.model_record.fps, crf=28)
    report = verify(ctx, copy)
    assert report.verdict == "recovered", report.reasons


def test_tampered_pixels_are_detected(generated):
    ctx, outcome, root = generated
    data = bytearray(outcome.output.read_bytes())
    mdat = data.find(b"mdat")
    assert mdat > 0
    for offset in range(mdat + 200, mdat + 260):
        data[offset] ^= 0xFF
    tampered = root / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = verify(ctx, tampered)
    assert report.provenance.state == "invalid"
    assert report.verdict == "tampered"


def test_other_homes_signer_is_untrusted(generated, tmp_path):
    """A valid manifest from a CA outside this home's trust anchors reads as untrusted."""
    ctx, _outcome, root = generated
    other = make_context(root / "other-home")
    second = generate(other, GenerateRequest(prompt="a green square moving left on a white background",
                                              output=tmp_path / "b.mp4", seed=3, **GEN_KW))
    report = verify(ctx, second.output)
    assert report.provenance.state == "valid"
    assert report.verdict == "untrusted"


def test_denied_prompt_never_reaches_the_model(home, tmp_path):
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    ctx = make_context(home)
    out = tmp_path / "denied.mp4"
    with pytest.raises(PolicyDenied) as raised:
        generate(ctx, GenerateRequest(prompt=DENIED_PROMPT, output=out, **GEN_KW))
    assert raised.value.decision.action.value in {"deny", "require-consent"}
    assert not out.exists()
    assert ctx._generators == {}  # the model was never loaded
    with session_scope(ctx.engine) as session:
        rows = list(session.exec(select(AuditEntry)))
    assert [row.kind for row in rows] == ["policy.decision"]


def test_a_policy_pack_that_does_not_load_stops_generation(home, tmp_path):
    """Fail closed: a broken pack is an error before the model, the output or the audit log."""
    from policies import PolicyError

    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    broken = tmp_path / "studio.yaml"
    broken.write_text("pack: studio\nversion: '1'\nrules:\n  - id: studio.hero\n    action: obliterate\n",
                      encoding="utf-8")
    ctx = make_context(home, policy_packs=[broken])
    out = tmp_path / "never.mp4"
    with pytest.raises(PolicyError, match="studio.yaml"):
        generate(ctx, GenerateRequest(prompt=SAFE_PROMPT, output=out, **GEN_KW))
    assert not out.exists()
    assert ctx._generators == {}  # the model was never loaded
    with session_scope(ctx.engine) as session:
        assert list(session.exec(select(AuditEntry))) == []


def test_existing_output_is_refused_without_force(home, tmp_path):
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep me")
    ctx = make_context(home)
    with pytest.raises(OutputExistsError):
        generate(ctx, GenerateRequest(prompt=SAFE_PROMPT, output=out, **GEN_KW))
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64])
def test_verify_rejects_non_video(home, tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(MediaError):
        verify(make_context(home), bad)


@pytest.mark.postgres
def test_full_chain_on_postgresql(pg_url, tmp_path):
    ctx = make_context(tmp_path / "home", database_url=pg_url)
    outcome = generate(ctx, GenerateRequest(prompt=SAFE_PROMPT, output=tmp_path / "pg.mp4", seed=1, **GEN_KW))
    assert ctx.engine.dialect.name == "postgresql"
    report = verify(ctx, outcome.output)
    assert report.verdict == "authentic", report.reasons
    stripped = remux(outcome.output, tmp_path / "pg-stripped.mp4")
    assert verify(ctx, stripped).verdict == "recovered"
    with pytest.raises(PolicyDenied):
        generate(ctx, GenerateRequest(prompt=DENIED_PROMPT, output=tmp_path / "no.mp4", **GEN_KW))
    assert not (tmp_path / "no.mp4").exists()
