"""Reference media in the gated flow (issue 18): ingredients, refusals, bad input.

The generations run the embedded model for real (4 steps at 256x256); signed references are
made here with the project's own signer through c2pa-rs's Builder, and a foreign one comes from
../shared/c2pa (an Amazon Titan PNG signed by its own issuer).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import zlib
from pathlib import Path

import c2pa
import cv2
import numpy as np
import pytest
from sqlmodel import select

from detectors.errors import MediaError, MediaTooLargeError
from detectors.provenance import read_provenance
from governance.core.errors import exit_code_for
from governance.core.settings import get_settings
from governance.flows import FlowContext, GenerateRequest, generate, verify
from governance.flows.references import (
    ReferenceMediaError,
    ReferenceProtectedMaterial,
    ReferenceUseRefused,
    forbidding_entries,
)
from governance.provenance.signing import GENERATION_LABEL, INGREDIENT_SHA256_KEY
from tests.conftest import C2PA_SAMPLES, SHARED, require_shared

PROMPT = "a red circle moving right on a blue background"
GEN = dict(num_frames=16, width=256, height=256, steps=4)
SHARED_FACES = SHARED / "faces" / "photos" / "face_recognition"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("references")
    context = FlowContext(get_settings(home=root / "home"), semantic_policy=False)
    yield context
    context.close()


@pytest.fixture
def no_model(ctx, monkeypatch):
    """Fails the test if anything asks for the diffusion model."""
    def refuse(model=None):
        raise AssertionError("the model was loaded although the reference should have been refused")

    monkeypatch.setattr(ctx, "generator", refuse)


def _png(path: Path, colour=(40, 200, 60), size=(48, 64)) -> Path:
    image = np.zeros((*size, 3), np.uint8)
    image[:] = colour
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_CREATED = {"label": "c2pa.actions.v2", "data": {"actions": [
    {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}


def _sign_png(identity, src: Path, dst: Path, assertions: list[dict]) -> Path:
    """``src`` signed by this install's own signer with ``assertions`` (c2pa-rs's Builder)."""
    definition = {"claim_generator_info": [{"name": "reelguard-tests", "version": "1"}], "title": dst.name,
                  "format": "image/png", "assertions": [_CREATED, *assertions]}
    context = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                                      "core": {"allowed_network_hosts": []}})
    builder = c2pa.Builder(definition, context=context)
    signer = identity.c2pa_signer()
    out = io.BytesIO()
    try:
        with open(src, "rb") as source:
            builder.sign(signer, "image/png", source, out)
    finally:
        signer.close()
        builder.close()
        context.close()
    dst.write_bytes(out.getvalue())
    return dst


def _tdm(label: str, **uses: str) -> dict:
    prefix = label.split(".", 1)[0]
    return {"label": label, "data": {"entries": {f"{prefix}.{k}": {"use": v} for k, v in uses.items()}}}


def _records(ctx):
    from governance.records.storage.db import session_scope
    from governance.records.storage.records import GenerationRecord

    with session_scope(ctx.engine) as session:
        return list(session.exec(select(GenerationRecord)))


def _last_event(ctx) -> dict:
    from governance.records.audit.log import parse_payload
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    with session_scope(ctx.engine) as session:
        row = session.exec(select(AuditEntry).order_by(AuditEntry.leaf_index.desc())).first()
        return {"kind": row.kind, "actor": row.actor, **parse_payload(bytes(row.payload))["event"]} if row else {}


# -- the manifest carries the reference --------------------------------------------------------


def test_image_reference_becomes_an_input_ingredient_with_its_digest(ctx, tmp_path):
    ref = _png(tmp_path / "still.png")
    outcome = generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "i2v.mp4", image=ref, strength=0.5,
                                            **GEN))
    digest = _sha(ref)
    assert outcome.model_record.task == "image-to-video"
    assert [r["sha256"] for r in outcome.references] == [digest]
    report = read_provenance(outcome.output, trust=ctx.trust)
    assert report.state == "trusted" and report.ok
    (ingredient,) = report.ingredients
    assert (ingredient.title, ingredient.relationship, ingredient.state) == ("still.png", "inputTo", "unsigned")
    assert ingredient.sha256 == digest and ingredient.format == "image/png"
    generation = next(a["data"] for a in report.manifest["assertions"] if a["label"] == GENERATION_LABEL)
    assert generation["references"][0]["sha256"] == digest and generation["references"][0]["c2pa"]["state"] == "absent"
    created = next(a for a in report.manifest["assertions"] if a["label"] == "c2pa.actions.v2")["data"]["actions"][0]
    assert created["action"] == "c2pa.created"  # the generative action names its input (a hashed URI)
    assert [i["url"].rsplit("/", 1)[-1] for i in created["parameters"]["ingredients"]] == ["c2pa.ingredient.v3"]
    record = next(r for r in _records(ctx) if r.content_id == outcome.content_id)
    assert record.model_record["references"][0]["sha256"] == digest
    checked = verify(ctx, outcome.output)
    assert checked.verdict == "authentic" and "ingredient-invalid" not in checked.flags
    assert checked.to_dict()["c2pa"]["ingredients"][0]["sha256"] == digest


def test_foreign_signed_reference_carries_its_own_manifest(ctx, tmp_path):
    source = require_shared(C2PA_SAMPLES / "c2pa-ts__amazon-titan-g1.png")
    ref = shutil.copy(source, tmp_path / "titan.png")
    own = read_provenance(ref, trust=ctx.trust)
    assert own.manifest_label and own.state in ("valid", "trusted")
    outcome = generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "titan.mp4", image=Path(ref), **GEN))
    report = read_provenance(outcome.output, trust=ctx.trust)
    (ingredient,) = report.ingredients
    assert ingredient.manifest_label == own.manifest_label  # the chain: the reference's manifest rides along
    assert ingredient.state == "valid" and ingredient.relationship == "inputTo"
    assert ingredient.sha256 == _sha(Path(ref))
    assert outcome.references[0]["c2pa"]["manifest_label"] == own.manifest_label
    assert report.state == "trusted" and report.ok


def test_tampered_reference_is_carried_but_the_output_says_so(ctx, tmp_path):
    ref = _sign_png(ctx.identity, _png(tmp_path / "raw.png"), tmp_path / "signed.png", [])
    data = ref.read_bytes()
    iend = data.rindex(b"IEND") - 4
    text = b"tEXt" + b"Comment\0edited after signing"
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text))
    ref.write_bytes(data[:iend] + chunk + data[iend:])  # still a good PNG; the data hash no longer matches
    outcome = generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "t.mp4", image=ref, **GEN))
    checked = verify(ctx, outcome.output)
    assert checked.provenance.ingredients[0].state == "invalid"
    assert "ingredient-invalid" in checked.flags  # never a silent "authentic"
    assert any("failed validation" in reason for reason in checked.reasons)


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "assertion",
    [
        _tdm("cawg.training-mining", ai_inference="notAllowed", data_mining="allowed"),
        _tdm("cawg.training-mining", ai_generative_training="constrained"),
        _tdm("c2pa.training-mining", ai_inference="notAllowed"),  # the C2PA 1.x label
    ],
    ids=["cawg-inference", "cawg-generative-constrained", "c2pa-1x"],
)
def test_reference_whose_credentials_forbid_generative_use_is_refused(ctx, tmp_path, no_model, assertion):
    ref = _sign_png(ctx.identity, _png(tmp_path / "raw.png"), tmp_path / "forbidden.png", [assertion])
    before = len(_records(ctx))
    with pytest.raises(ReferenceUseRefused) as refused:
        generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "out.mp4", image=ref, **GEN))
    assert exit_code_for(refused.value) == 6
    assert refused.value.entries[0]["use"] in ("notAllowed", "constrained")
    assert not (tmp_path / "out.mp4").exists() and len(_records(ctx)) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    event = _last_event(ctx)
    assert (event["kind"], event["action"], event["category"]) == ("policy.decision", "deny", "reference-credentials")
    assert _sha(ref) in event["reason"]


def test_reference_that_allows_inference_passes_the_credential_check(ctx, tmp_path):
    ref = _sign_png(ctx.identity, _png(tmp_path / "raw.png"), tmp_path / "ok.png",
                    [_tdm("cawg.training-mining", ai_inference="allowed", ai_training="notAllowed")])
    outcome = generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "ok.mp4", image=ref, **GEN))
    ingredient = read_provenance(outcome.output, trust=ctx.trust).ingredients[0]
    assert ingredient.state == "valid" and ingredient.codes == ()  # our own CA: trusted, no failure codes


def test_own_output_as_a_video_reference_is_refused_by_its_own_defaults(ctx, tmp_path, no_model):
    """ReelGuard's outputs say cawg.ai_inference notAllowed unless the operator changes it."""
    from governance.provenance.signing import sign_video
    from tests.c2pa_ts.support import make_clip, make_spec

    ours = sign_video(make_clip(tmp_path / "raw.mp4", frames=8), tmp_path / "ours.mp4", spec=make_spec(),
                      identity=ctx.identity)
    with pytest.raises(ReferenceUseRefused) as refused:
        generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "v2v.mp4", video=ours.path, **GEN))
    assert {e["entry"] for e in refused.value.entries} == {"cawg.ai_inference", "cawg.ai_generative_training"}
    assert refused.value.reference.kind == "video" and not (tmp_path / "v2v.mp4").exists()


def test_reference_matching_protected_material_is_refused(tmp_path, monkeypatch):
    context = FlowContext(get_settings(home=tmp_path / "home"), semantic_policy=False)
    try:
        rng = np.random.default_rng(3)
        work = rng.integers(0, 255, (12, 18, 3), dtype=np.uint8)
        work = cv2.resize(work, (320, 240), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(tmp_path / "work.png"), cv2.cvtColor(work, cv2.COLOR_RGB2BGR))
        context.registry.add_path(tmp_path / "work.png", owner="Studio", title="Poster")
        monkeypatch.setattr(context, "generator", lambda model=None: pytest.fail("the model must not run"))
        with pytest.raises(ReferenceProtectedMaterial) as blocked:
            generate(context, GenerateRequest(prompt=PROMPT, output=tmp_path / "o.mp4", image=tmp_path / "work.png",
                                              **GEN))
        assert exit_code_for(blocked.value) == 4 and "Poster" in str(blocked.value)
        assert not (tmp_path / "o.mp4").exists()
        event = _last_event(context)
        assert event["category"] == "reference-protected-material"
    finally:
        context.close()


# -- bad input: clear errors, nothing generated, before any model loads ------------------------


def _huge_png(path: Path) -> Path:
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)))
    return path


@pytest.mark.parametrize(
    ("make", "field", "error", "message"),
    [
        (lambda d: d / "missing.png", "image", ReferenceMediaError, "no such file"),
        (lambda d: shutil.copy(C2PA_SAMPLES / "c2pa-rs__video1_no_manifest.mp4", d / "clip.png"), "image",
         ReferenceMediaError, "is a video .*pass it with --video"),
        (lambda d: _png(d / "still.png"), "video", ReferenceMediaError, "is an image .*pass it with --image"),
        (lambda d: (d / "notes.png").write_text("hello") and d / "notes.png", "image", ReferenceMediaError,
         "not a media file"),
        (lambda d: (d / "cut.png").write_bytes(_png(d / "full.png").read_bytes()[:60]) and d / "cut.png", "image",
         MediaError, "cut.png"),
        (lambda d: _huge_png(d / "huge.png"), "image", MediaTooLargeError, "30000x30000"),
        (lambda d: d, "image", ReferenceMediaError, "not a regular file"),
    ],
    ids=["missing", "video-as-image", "image-as-video", "text", "corrupt", "huge-declared", "folder"],
)
def test_bad_reference_is_refused_before_anything_runs(ctx, tmp_path, no_model, make, field, error, message):
    require_shared(C2PA_SAMPLES)
    ref_dir = tmp_path / "in"
    ref_dir.mkdir()
    ref = Path(make(ref_dir))
    before = len(_records(ctx))
    with pytest.raises(error, match=message):
        generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "out.mp4", **{field: ref}, **GEN))
    assert not (tmp_path / "out.mp4").exists() and len(_records(ctx)) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [(dict(strength=0.5), "needs a reference"), (dict(strength=1.5, image="x.png"), r"\(0, 1\]"),
     (dict(image="a.png", video="b.mp4"), "not both")],
)
def test_reference_options_are_checked_first(ctx, tmp_path, no_model, kwargs, message):
    kwargs = {k: (tmp_path / v if isinstance(v, str) else v) for k, v in kwargs.items()}
    with pytest.raises(ReferenceMediaError, match=message):
        generate(ctx, GenerateRequest(prompt=PROMPT, output=tmp_path / "out.mp4", **kwargs))


# -- the permission reading itself ------------------------------------------------------------


def test_forbidding_entries_reads_both_labels_and_only_the_governing_entries():
    manifest = {"assertions": [
        _tdm("cawg.training-mining", ai_training="notAllowed", data_mining="notAllowed"),
        {**_tdm("cawg.training-mining", ai_inference="allowed"), "label": "cawg.training-mining__1"},
        _tdm("c2pa.training-mining", ai_generative_training="notAllowed"),
        {"label": "org.example.other", "data": {"entries": {"cawg.ai_inference": {"use": "notAllowed"}}}},
        {"label": "cawg.training-mining", "data": {"entries": "garbage"}},
    ]}
    assert forbidding_entries(manifest) == [
        {"assertion": "c2pa.training-mining", "entry": "c2pa.ai_generative_training", "use": "notAllowed"}]
    assert forbidding_entries(None) == [] and forbidding_entries({"assertions": "x"}) == []


def test_ingredient_digest_key_is_shared_with_the_reader():
    from detectors.provenance.interpret import INGREDIENT_SHA256_KEY as READ

    assert READ == INGREDIENT_SHA256_KEY


# -- faces: the likeness guard runs on the reference, last ------------------------------------


def test_reference_showing_an_enrolled_person_is_refused_until_licensed(tmp_path, monkeypatch):
    likeness = pytest.importorskip("governance.flows.likeness")
    faces = require_shared(SHARED_FACES)
    context = FlowContext(get_settings(home=tmp_path / "home"), semantic_policy=False)
    try:
        likeness.enroll_person(context, "barack-obama", [faces / "obama.jpg"], name="Barack Obama")
        monkeypatch.setattr(context, "generator", lambda model=None: pytest.fail("the model must not run"))
        with pytest.raises(likeness.LikenessBlocked) as blocked:
            generate(context, GenerateRequest(prompt=PROMPT, output=tmp_path / "o.mp4", image=faces / "obama2.jpg",
                                              **GEN))
        assert exit_code_for(blocked.value) == 5 and blocked.value.person_ids == ("barack-obama",)
        assert blocked.value.stage == "reference" and not (tmp_path / "o.mp4").exists()
        # someone else, or the same person once licensed, passes the gate: the model is asked
        # for (and refused here on purpose, so the test stays fast)
        with pytest.raises(pytest.fail.Exception, match="the model must not run"):
            generate(context, GenerateRequest(prompt=PROMPT, output=tmp_path / "b.mp4", image=faces / "biden.jpg",
                                              **GEN))
        context.consent.grant(person_id="barack-obama", granted_by="Barack Obama", scope="video")
        with pytest.raises(pytest.fail.Exception, match="the model must not run"):
            generate(context, GenerateRequest(prompt=PROMPT, output=tmp_path / "o.mp4", image=faces / "obama2.jpg",
                                              **GEN))
    finally:
        context.close()
