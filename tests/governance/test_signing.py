"""Signing: manifest content, every algorithm, atomic output, bad input, ingredients, sidecars."""

from __future__ import annotations

import json

import pytest

from detectors.provenance import read_provenance
from governance.errors import OutputExistsError, SigningError
from governance.keys import create_identity, load_or_create_identity, trust_bundle_pem
from governance.signing import (
    AIGC_LABEL,
    GENERATION_LABEL,
    SB942_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    Ingredient,
    policy_digest,
    SignOptions,
    sign_sidecar,
    sign_video,
)
from governance.signing.sign import _HashingWriter, sha256_file
from tests.c2pa_ts.support import make_clip, make_spec, new_settings


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    base = tmp_path_factory.mktemp("signing")
    settings = new_settings(base)
    identity = load_or_create_identity(settings)
    clip = make_clip(base / "clip.mp4")
    return settings, identity, clip, base


def _assertions(report) -> dict:
    return {a["label"]: a.get("data") for a in report.manifest["assertions"]}


def test_manifest_carries_every_reelguard_statement(home):
    settings, identity, clip, base = home
    spec = make_spec()
    signed = sign_video(clip, base / "signed.mp4", spec=spec, identity=identity)
    report = read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted" and report.codes == ()
    assert report.claims_ai_generated and report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert (report.soft_binding.alg, report.soft_binding.payload_hex) == ("reelguard.ss.v1", "00112233aabbccdd")
    assert report.content_id == "0123456789abcdef" and report.signer == identity.signer
    actions = [a["action"] for a in _assertions(report)["c2pa.actions.v2"]["actions"]]
    assert actions == ["c2pa.created", "c2pa.watermarked"]
    generation = _assertions(report)[GENERATION_LABEL]
    assert generation["policy"]["digest"] == policy_digest(spec.policy_decision)
    assert generation["policy"]["pack_digest"] == "ab" * 32 and generation["policy"]["action"] == "allow"
    assert generation["audit_leaf_index"] == 17 and generation["jurisdiction"] == "eu"
    assert generation["model"]["model_id"] == "reelguard/embedded-tiny"
    assert set(report.aigc) == {"Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
                                "PropagateID", "ReservedCode2"}
    assert report.aigc["Label"] == "1" and report.aigc["ProduceID"] == spec.content_id
    assert report.sb942 == _assertions(report)[SB942_LABEL]
    assert report.sb942["provider"] == "ACME Studios" and report.sb942["unique_id"] == spec.content_id
    assert report.sb942["system_name"] == "reelguard/embedded-tiny" and report.sb942["created_at"] == "2026-01-02T03:04:05Z"
    assert report.training_mining["entries"]["cawg.ai_generative_training"]["use"] == "notAllowed"
    assert AIGC_LABEL in _assertions(report)
    # SignedAsset agrees with what a reader sees
    assert signed.manifest_label == report.manifest_label
    assert signed.file_sha256 == sha256_file(signed.path)
    assert json.loads(signed.manifest_json)["active_manifest"] == signed.manifest_label
    assert signed.signer == identity.signer and len(signed.manifest_digest) == 64


@pytest.mark.parametrize("algorithm", ["es256", "es384", "ed25519", "ps256"])
def test_each_algorithm_reads_trusted_with_anchors_and_valid_without(tmp_path, algorithm):
    settings = new_settings(tmp_path)
    identity = create_identity(settings, algorithm=algorithm)
    signed = sign_video(make_clip(tmp_path / "in.mp4"), tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    trusted = read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert trusted.state == "trusted", trusted.codes
    untrusted = read_provenance(signed.path)
    assert untrusted.state == "valid" and untrusted.codes == ("signingCredential.untrusted",)
    other = new_settings(tmp_path / "other")
    create_identity(other)  # someone else's CA does not vouch for us
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(other)).state == "valid"


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_failed_signing_leaves_no_output_and_no_temp_file(home, tmp_path):
    settings, identity, clip, base = home
    expired = identity.__class__(**{**identity.__dict__, "not_after": identity.not_before})
    with pytest.raises(SigningError, match="expired"):
        sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=expired)
    assert not (tmp_path / "out.mp4").exists() and _leftovers(tmp_path) == []

    class Broken:
        algorithm = identity.algorithm

        def sign(self, data: bytes) -> bytes:
            raise RuntimeError("HSM offline")

    broken = identity.__class__(**{**identity.__dict__, "backend": Broken()})
    with pytest.raises(SigningError, match="signing clip.mp4 failed"):
        sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=broken)
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_fail_clearly(home, tmp_path):
    settings, identity, clip, base = home
    webm = tmp_path / "clip.webm"
    webm.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 64)
    with pytest.raises(SigningError, match="unsupported format"):
        sign_video(webm, tmp_path / "out.webm", spec=make_spec(), identity=identity)
    with pytest.raises(SigningError, match="no such file"):
        sign_video(tmp_path / "missing.mp4", tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not an mp4 at all" * 10)
    with pytest.raises(SigningError):
        sign_video(junk, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    (tmp_path / "exists.mp4").write_bytes(b"x")
    with pytest.raises(OutputExistsError):
        sign_video(clip, tmp_path / "exists.mp4", spec=make_spec(), identity=identity, force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.webm", "exists.mp4", "junk.mp4"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("content_id", "XYZ", "content_id"),
        ("watermark_payload_hex", "zz", "watermark_payload_hex"),
        ("title", "", "title"),
        ("model_record", {"blob": "x" * 70_000}, "model_record is"),
        ("audit_leaf_index", -1, "audit_leaf_index"),
        ("ingredients", tuple(f"/x/{i}.png" for i in range(17)), "at most 16"),
    ],
)
def test_spec_validation_teaches(field, value, message):
    with pytest.raises(SigningError, match=message):
        make_spec(**{field: value})


def test_edit_of_a_signed_clip_carries_the_parent_and_its_validation(home, tmp_path):
    settings, identity, clip, base = home
    parent = sign_video(clip, tmp_path / "parent.mp4", spec=make_spec(), identity=identity)
    still = tmp_path / "still.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(still), np.full((16, 16, 3), 127, np.uint8))
    spec = make_spec(content_id="1111111111111111",
                     ingredients=(Ingredient(parent.path, "parentOf"), Ingredient(still, "inputTo", "reference still")))
    options = SignOptions(trust_anchors_pem=trust_bundle_pem(settings), verify_after_sign=True)
    child = sign_video(make_clip(tmp_path / "v2v.mp4", seed=3), tmp_path / "child.mp4", spec=spec, identity=identity,
                       options=options)
    report = read_provenance(child.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted" and report.ok
    actions = [a["action"] for a in _assertions(report)["c2pa.actions.v2"]["actions"]]
    assert actions == ["c2pa.opened", "c2pa.edited", "c2pa.watermarked"] and report.claims_ai_generated
    by_title = {i.title: i for i in report.ingredients}
    assert by_title["parent.mp4"].relationship == "parentOf"
    assert by_title["parent.mp4"].manifest_label == parent.manifest_label and by_title["parent.mp4"].state == "valid"
    assert by_title["parent.mp4"].codes == ()  # validated against our anchors when the child was signed
    assert by_title["reference still"].state == "unsigned" and by_title["reference still"].relationship == "inputTo"


def test_tampered_ingredient_keeps_top_level_trusted_but_shows_in_the_ingredient(home, tmp_path):
    settings, identity, clip, base = home
    parent = sign_video(clip, tmp_path / "parent.mp4", spec=make_spec(), identity=identity)
    data = bytearray(parent.path.read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 64] ^= 0xFF
    parent.path.write_bytes(bytes(data))
    spec = make_spec(content_id="2222222222222222", ingredients=(Ingredient(parent.path, "parentOf"),))
    child = sign_video(make_clip(tmp_path / "v2v.mp4", seed=4), tmp_path / "child.mp4", spec=spec, identity=identity)
    report = read_provenance(child.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted"
    assert report.ingredients[0].state == "invalid" and "assertion.bmffHash.mismatch" in report.ingredient_codes
    assert not report.ok


def test_sidecar_verifies_beside_its_asset_only(home, tmp_path):
    settings, identity, clip, base = home
    source = make_clip(tmp_path / "plain.mp4", seed=5)
    before = sha256_file(source)
    signed = sign_sidecar(source, spec=make_spec(), identity=identity)
    assert signed.sidecar == tmp_path / "plain.c2pa" and sha256_file(source) == before  # asset untouched
    assert signed.sidecar.read_bytes() == signed.manifest_bytes
    anchors = trust_bundle_pem(settings)
    auto = read_provenance(source, trust_anchors_pem=anchors)  # <stem>.c2pa found automatically
    assert (auto.state, auto.source, auto.manifest_label) == ("trusted", "sidecar", signed.manifest_label)
    other = make_clip(tmp_path / "other.mp4", seed=6)
    moved = read_provenance(other, trust_anchors_pem=anchors, sidecar=signed.sidecar)
    assert moved.state == "invalid" and "assertion.bmffHash.mismatch" in moved.codes
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_output_hash_falls_back_when_writes_are_not_front_to_back(tmp_path):
    path = tmp_path / "out.bin"
    with open(path, "w+b") as handle:
        writer = _HashingWriter(handle)
        writer.write(b"abcdef")
        writer.write(b"ghij")
        handle.flush()
        assert writer._sequential and writer.hexdigest(path) == sha256_file(path)
        writer.seek(2)
        writer.write(b"ZZ")  # c2pa-rs patching a placeholder would look like this
        handle.flush()
        assert not writer._sequential and writer.hexdigest(path) == sha256_file(path)
    assert path.read_bytes() == b"abZZefghij"


def test_folder_and_empty_sources_are_refused(home, tmp_path):
    settings, identity, clip, base = home
    with pytest.raises(SigningError, match="not a regular file"):
        sign_video(tmp_path, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SigningError, match="empty file"):
        sign_video(tmp_path / "empty.mp4", tmp_path / "out.mp4", spec=make_spec(), identity=identity)


@pytest.mark.parametrize("suffix", [".mov", ".m4v"])
def test_mov_and_m4v_sign_and_verify(home, tmp_path, suffix):
    settings, identity, clip, base = home
    src = tmp_path / f"clip{suffix}"
    src.write_bytes(clip.read_bytes())  # same ISO BMFF bytes, QuickTime / M4V MIME type
    signed = sign_video(src, tmp_path / f"signed{suffix}", spec=make_spec(), identity=identity)
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"


def test_h265_mp4_signs_and_verifies(home, tmp_path):
    import av
    import numpy as np

    from detectors.video_io import write_video

    settings, identity, clip, base = home
    if "libx265" not in av.codecs_available:
        pytest.skip("libx265 encoder not in this PyAV build")
    frames = np.random.default_rng(2).integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
    src = write_video(tmp_path / "hevc.mp4", frames, fps=4, codec="libx265", preset="ultrafast")
    signed = sign_video(src, tmp_path / "signed.mp4", spec=make_spec(), identity=identity)
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"


def test_non_json_values_in_records_are_stringified(home, tmp_path):
    import datetime as dt
    from pathlib import Path

    settings, identity, clip, base = home
    spec = make_spec(model_record={"model_id": "m", "path": Path("/models/m"), "at": dt.datetime(2026, 1, 1)})
    signed = sign_video(clip, tmp_path / "out.mp4", spec=spec, identity=identity)
    report = read_provenance(signed.path)
    assert report.generation["model"] == {"model_id": "m", "path": "/models/m", "at": "2026-01-01 00:00:00"}
