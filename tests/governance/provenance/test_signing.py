"""Signing: manifest content, every algorithm, atomic output, bad input, ingredients, sidecars,
the embeddable (fast) path, its fallbacks to Builder.sign and its offset patching."""

from __future__ import annotations

import dataclasses
import errno
import json
import struct

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from detectors.provenance import read_provenance
from governance.core.errors import OutputError, OutputExistsError, SigningError
from governance.provenance.keys import create_identity, load_or_create_identity, trust_bundle_pem
from governance.provenance.signing import (
    AIGC_LABEL,
    GENERATION_LABEL,
    SB942_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    Ingredient,
    SignOptions,
    _embeddable,
    policy_digest,
    sign_sidecar,
    sign_video,
)
from governance.provenance.signing.hashing import HashingWriter, sha256_file
from tests.c2pa_ts.support import C2PA_TS_READY, C2PA_TS_SKIP, c2pa_ts_read, make_clip, make_spec, new_settings, remux


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
    assert actions == ["c2pa.created", "c2pa.watermarked.bound"]  # C2PA 2.4: bound to the soft binding
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
    assert signed.method == "embeddable"  # the fast path, unless a check below says otherwise


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
    assert child.method == "builder"  # verify_after_sign: only Builder.sign verifies its output
    report = read_provenance(child.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted" and report.ok
    actions = [a["action"] for a in _assertions(report)["c2pa.actions.v2"]["actions"]]
    assert actions == ["c2pa.opened", "c2pa.edited", "c2pa.watermarked.bound"] and report.claims_ai_generated
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
    assert child.method == "embeddable"  # ingredients ride along on the fast path
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
        writer = HashingWriter(handle)
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


# --- The embeddable (fast) path and its fallbacks -----------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _top(data: bytes) -> list[tuple[bytes, int, int]]:
    """(kind, offset, size) of each top-level box."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, pos, size))
        pos += size
    return out


def _children(data: bytes, kind: bytes) -> list[int]:
    """Offsets of every ``kind`` box in the moov / moof / mfra trees."""
    found = []

    def walk(start: int, end: int) -> None:
        pos = start
        while pos + 8 <= end:
            size, k = struct.unpack_from(">I4s", data, pos)
            if k == kind:
                found.append(pos)
            if k in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mfra"):
                walk(pos + 8, pos + size)
            pos += size

    walk(0, len(data))
    return found


def _fragmented(src, dst, **options: str):
    """``src`` remuxed as a fragmented MP4 (``ffmpeg -movflags frag_keyframe+empty_moov``)."""
    return remux(src, dst, movflags="frag_keyframe+empty_moov", **options)


def _builder_only(monkeypatch):
    def refuse(path):
        raise _embeddable.Unsupported("forced by the test")

    monkeypatch.setattr(_embeddable, "scan", refuse)


def _manifest_span(data: bytes) -> tuple[int, int]:
    (ftyp_kind, _, ftyp_size), (uuid_kind, at, size) = _top(data)[:2]
    assert ftyp_kind == b"ftyp" and uuid_kind == b"uuid" and data[at + 8 : at + 24] == _embeddable.C2PA_UUID
    return at, at + size


@pytest.fixture(scope="module")
def fragmented(home):
    settings, identity, clip, base = home
    single = _fragmented(clip, base / "frag.mp4")  # one moof, tfhd base-data-offset
    many = _fragmented(make_clip(base / "long.mp4", frames=24), base / "frags.mp4", frag_duration="300000")
    return single, many


@pytest.mark.parametrize("source", ["plain", "fragmented"])
def test_embeddable_output_is_trusted_and_matches_builder_outside_the_manifest(home, fragmented, tmp_path, monkeypatch,
                                                                                source):
    settings, identity, clip, base = home
    src = clip if source == "plain" else fragmented[0]
    fast = sign_video(src, tmp_path / "fast.mp4", spec=make_spec(), identity=identity)
    assert fast.method == "embeddable"
    report = read_provenance(fast.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted" and report.codes == () and report.manifest_label == fast.manifest_label
    _builder_only(monkeypatch)
    slow = sign_video(src, tmp_path / "slow.mp4", spec=make_spec(), identity=identity)
    assert slow.method == "builder"
    a, b = fast.path.read_bytes(), slow.path.read_bytes()
    assert len(a) == len(b) and _manifest_span(a) == _manifest_span(b)
    start, end = _manifest_span(a)
    assert a[:start] == b[:start] and a[end:] == b[end:]  # ftyp, moov / moof (patched offsets), mdat
    assert a[start:end].find(fast.manifest_bytes) > 0 and len(fast.manifest_bytes) == len(slow.manifest_bytes)
    assert fast.file_sha256 == sha256_file(fast.path)


def test_embeddable_detects_a_byte_flip_in_mdat(home, tmp_path):
    settings, identity, clip, base = home
    signed = sign_video(clip, tmp_path / "signed.mp4", spec=make_spec(), identity=identity)
    assert signed.method == "embeddable"
    data = bytearray(signed.path.read_bytes())
    (kind, pos, size), = [box for box in _top(bytes(data)) if box[0] == b"mdat"]
    data[pos + size // 2] ^= 0x01
    (tmp_path / "tampered.mp4").write_bytes(bytes(data))
    report = read_provenance(tmp_path / "tampered.mp4", trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "invalid" and "assertion.bmffHash.mismatch" in report.codes


def test_many_fragments_sign_fast_with_every_offset_shifted(home, fragmented, tmp_path):
    settings, identity, clip, base = home
    src = fragmented[1]
    before = src.read_bytes()
    assert [k for k, _, _ in _top(before)].count(b"moof") > 2 and _children(before, b"tfra")
    signed = sign_video(src, tmp_path / "signed.mp4", spec=make_spec(), identity=identity)
    assert signed.method == "embeddable"
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"
    after = signed.path.read_bytes()
    start, end = _manifest_span(after)
    shift = end - start
    moofs = lambda data: [pos for kind, pos, _ in _top(data) if kind == b"moof"]  # noqa: E731
    assert moofs(after) == [pos + shift for pos in moofs(before)]

    def tfra(data: bytes) -> list[int]:  # moof offsets listed in the random-access index
        body = _children(data, b"tfra")[0] + 8
        width = 8 if data[body] == 1 else 4
        lengths, count = struct.unpack_from(">II", data, body + 8)
        step = 2 * width + ((lengths >> 4) & 3) + ((lengths >> 2) & 3) + (lengths & 3) + 3
        return [int.from_bytes(data[body + 16 + i * step + width : body + 16 + i * step + 2 * width], "big")
                for i in range(count)]

    # Builder.sign in c2pa-rs 0.91.3 writes the last moof offset into every tfra entry;
    # the fast path keeps each entry pointing at its own moof.
    assert tfra(after) == [o + shift for o in tfra(before)] == moofs(after)


def test_signing_a_signed_clip_falls_back_and_replaces_its_manifest(home, tmp_path):
    settings, identity, clip, base = home
    first = sign_video(clip, tmp_path / "first.mp4", spec=make_spec(), identity=identity)
    with pytest.raises(_embeddable.Unsupported, match="already carries a C2PA manifest"):
        _embeddable.scan(first.path)
    again = sign_video(first.path, tmp_path / "again.mp4", spec=make_spec(content_id="3333333333333333"),
                       identity=identity)
    assert again.method == "builder"
    report = read_provenance(again.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted" and report.content_id == "3333333333333333"
    assert [kind for kind, _, _ in _top(again.path.read_bytes())].count(b"uuid") == 1  # replaced, not stacked
    assert again.file_sha256 == sha256_file(again.path)


def _iso_meta_with_iloc() -> bytes:
    hdlr = _box(b"hdlr", bytes(8) + b"pict" + bytes(13))
    return _box(b"meta", bytes(4) + hdlr + _box(b"iloc", bytes(4) + b"\x44\x00" + bytes(2)))


def _with_saio_in_moov(data: bytes) -> bytes:
    (kind, pos, size), = [box for box in _top(data) if box[0] == b"moov"]
    assert pos + size == len(data)  # moov last: growing it moves nothing
    saio = _box(b"saio", bytes(8))
    return data[:pos] + struct.pack(">I", size + len(saio)) + data[pos + 4 :] + saio


LAYOUTS = {  # source bytes -> what scan says
    "size-0 box": (lambda d: d + struct.pack(">I4s", 0, b"free") + bytes(16), "has size 0"),
    "huge meta box": (lambda d: d + _box(b"meta", bytes((64 << 20) + 8)), "meta boxes of more than 67108864 bytes"),
    "iloc in a meta box": (lambda d: d + _iso_meta_with_iloc(), "iloc"),
    "saio in moov": (_with_saio_in_moov, "saio"),
}


@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_layouts_the_fast_path_does_not_patch_fall_back_and_still_sign(home, tmp_path, case):
    settings, identity, clip, base = home
    craft, reason = LAYOUTS[case]
    src = tmp_path / "src.mp4"
    src.write_bytes(craft(clip.read_bytes()))
    with pytest.raises(_embeddable.Unsupported, match=reason):
        _embeddable.scan(src)
    signed = sign_video(src, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    assert signed.method == "builder"
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"


def test_layouts_c2pa_cannot_sign_either_are_refused_by_the_scan(home, tmp_path):
    settings, identity, clip, base = home
    data = clip.read_bytes()
    cases = {
        "not-ftyp.mp4": (_box(b"free", bytes(8)) + data, "first box is not ftyp"),
        "truncated.mp4": (data[:-20], "malformed box b'moov'"),
    }
    for name, (content, reason) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(_embeddable.Unsupported, match=reason):
            _embeddable.scan(tmp_path / name)
    with pytest.raises(SigningError, match="signing truncated.mp4 failed"):  # Builder.sign's error, as before
        sign_video(tmp_path / "truncated.mp4", tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    assert not (tmp_path / "out.mp4").exists()


def test_library_refusals_fall_back_to_builder_sign(home, tmp_path, monkeypatch):
    settings, identity, clip, base = home
    real = _embeddable._lib()

    def not_bmff(builder, fmt, out):
        out._obj.value = 0  # C2paHashType::Data
        return 0

    def missing():
        raise _embeddable.Unsupported("libc2pa_c.so has no c2pa_builder_sign_embeddable")

    variants = {
        "missing functions": missing,
        "no placeholder": lambda: type(real)(**{**vars(real), "builder_needs_placeholder": lambda b, f: 0}),
        "not a BMFF hash": lambda: type(real)(**{**vars(real), "builder_hash_type": not_bmff}),
    }
    for name, fake in variants.items():
        monkeypatch.setattr(_embeddable, "_lib", fake)
        signed = sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
        assert signed.method == "builder", name
        assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted", name
    assert _leftovers(tmp_path) == []


def test_stco_that_would_overflow_falls_back(home, tmp_path, monkeypatch):
    settings, identity, clip, base = home
    real_prepare = _embeddable.prepare
    seen = []

    def near_the_limit(builder, fmt, layout):  # as if mdat ended just below 4 GiB
        moov = next(box for box in layout.boxes if box.kind == b"moov")
        table = bytearray(layout.tables[moov.offset])
        at = bytes(table).find(b"stco") + 12
        struct.pack_into(">I", table, at, 0xFFFFFF00)
        try:
            return real_prepare(builder, fmt, dataclasses.replace(layout, tables={moov.offset: bytes(table)}))
        except _embeddable.Unsupported as exc:
            seen.append(str(exc))
            raise

    monkeypatch.setattr(_embeddable, "prepare", near_the_limit)
    signed = sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    assert signed.method == "builder" and seen and "stco offsets would overflow" in seen[0]
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"


def test_write_failure_on_the_fast_path_leaves_nothing(home, tmp_path, monkeypatch):
    settings, identity, clip, base = home

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_embeddable, "_copy", full)
    with pytest.raises(OutputError, match="No space left"):
        sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    assert list(tmp_path.iterdir()) == []


def test_copy_falls_back_to_read_write_when_the_kernel_copy_is_refused(tmp_path, monkeypatch):
    import os
    import threading

    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(bytes(range(256)) * 5000)
    calls = []

    def refuse(*args):
        calls.append(args)
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    with open(src, "rb") as a, open(dst, "w+b") as b:
        _embeddable._copy(a.fileno(), b.fileno(), 100, 1_000_000, 7, threading.Event())
    assert calls and dst.read_bytes() == bytes(7) + src.read_bytes()[100:1_000_100]


def test_output_hash_is_the_files_unless_turned_off(home, tmp_path):
    settings, identity, clip, base = home
    signed = sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    assert signed.method == "embeddable" and signed.file_sha256 == sha256_file(signed.path)
    assert signed.to_dict()["file_sha256"] == signed.file_sha256
    quick = sign_video(clip, tmp_path / "quick.mp4", spec=make_spec(), identity=identity,
                       options=SignOptions(output_sha256=False))
    assert quick.method == "embeddable" and quick.file_sha256 is None
    assert read_provenance(quick.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"


def test_hostile_layouts_are_refused_by_the_scan_not_the_stack(home, tmp_path):
    settings, identity, clip, base = home
    data = clip.read_bytes()
    nested = b""
    for _ in range(3000):  # 3,000 nested trak boxes: recursion would exhaust the stack
        nested = _box(b"trak", nested)
    (kind, pos, size), = [box for box in _top(data) if box[0] == b"moov"]
    deep = data[:pos] + _box(b"moov", data[pos + 8 : pos + size] + nested) + data[pos + size :]
    (tmp_path / "deep.mp4").write_bytes(deep)
    with pytest.raises(_embeddable.Unsupported, match="nested more than 32 deep"):
        _embeddable.scan(tmp_path / "deep.mp4")
    many = data + _box(b"moof", b"") * 3 + _box(b"free", b"") * 10
    (tmp_path / "many.mp4").write_bytes(many)
    assert len(_embeddable.scan(tmp_path / "many.mp4").boxes) == len(_top(data)) + 13


def test_a_source_that_changes_after_the_scan_is_refused(home, tmp_path):
    settings, identity, clip, base = home
    src = tmp_path / "src.mp4"
    src.write_bytes(clip.read_bytes())
    layout = _embeddable.scan(src)
    src.write_bytes(clip.read_bytes() + _box(b"free", bytes(8)))  # a new size and mtime
    from governance.provenance.signing.sign import _sign_embeddable

    with open(tmp_path / "out.mp4", "w+b") as out, pytest.raises(SigningError, match="changed after it was scanned"):
        _sign_embeddable(make_spec(), identity, src, "video/mp4", layout, out.fileno(), options=SignOptions())


def test_short_writes_are_completed(home, tmp_path, monkeypatch):
    import os

    settings, identity, clip, base = home
    real = os.pwrite

    def dribble(fd, data, offset):  # at most 100 bytes per call, as a nearly full disk may do
        return real(fd, bytes(memoryview(data)[:100]), offset)

    monkeypatch.setattr(os, "pwrite", dribble)
    signed = sign_video(clip, tmp_path / "out.mp4", spec=make_spec(), identity=identity)
    monkeypatch.undo()
    assert signed.method == "embeddable"
    assert read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings)).state == "trusted"


@pytest.mark.skipif(not C2PA_TS_READY, reason=C2PA_TS_SKIP)
def test_typescript_reader_agrees_on_fast_path_outputs(home, fragmented, tmp_path):
    settings, identity, clip, base = home
    outputs = [sign_video(src, tmp_path / f"{i}.mp4", spec=make_spec(), identity=identity)
               for i, src in enumerate((clip, *fragmented))]
    assert {o.method for o in outputs} == {"embeddable"}
    tampered = tmp_path / "tampered.mp4"
    data = bytearray(outputs[0].path.read_bytes())
    (kind, pos, size), = [box for box in _top(bytes(data)) if box[0] == b"mdat"]
    data[pos + size // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    theirs = c2pa_ts_read(*(o.path for o in outputs), tampered)
    for signed in outputs:
        row = theirs[str(signed.path)]
        assert row["manifest"] and row["valid"] and row["error"] is None, row
        assert row["active_label"] == signed.manifest_label
    assert theirs[str(tampered)]["manifest"] and not theirs[str(tampered)]["valid"]


# Synthetic moov boxes: stco / co64 tables among leaves whose bytes must not move.
_leaf = st.tuples(st.sampled_from([b"mvhd", b"tkhd", b"stsz", b"free"]), st.binary(max_size=40)).map(
    lambda t: _box(t[0], t[1] + b"stco co64")  # the codes inside payloads must not be mistaken for boxes
)


@st.composite
def _moov(draw):
    tables = draw(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 2**32 - 1), max_size=20)), min_size=1,
                           max_size=4))
    traks = []
    for wide, entries in tables:
        kind, fmt = (b"co64", ">Q") if wide else (b"stco", ">I")
        table = _box(kind, bytes(4) + struct.pack(f">I{len(entries)}{fmt[1]}", len(entries), *entries))
        stbl = _box(b"stbl", draw(_leaf) + table + draw(_leaf))
        traks.append(_box(b"trak", draw(_leaf) + _box(b"mdia", _box(b"minf", stbl))))
    return _box(b"moov", draw(_leaf) + b"".join(traks)), tables


def _tables(data: bytes) -> list[tuple[int, int, tuple[int, ...]]]:
    out = []
    for kind in (b"stco", b"co64"):
        for pos in _children(data, kind):
            count = struct.unpack_from(">I", data, pos + 12)[0]
            width = 4 if kind == b"stco" else 8
            out.append((pos + 16, width, struct.unpack_from(f">{count}{'I' if width == 4 else 'Q'}", data, pos + 16)))
    return sorted(out)


@hsettings(max_examples=150, deadline=None)
@given(_moov(), st.integers(0, 2**24))
def test_patch_offsets_shifts_every_chunk_offset_and_nothing_else(moov_and_tables, shift):
    moov, tables = moov_and_tables
    patched = bytearray(moov)
    narrow = [e for wide, entries in tables if not wide for e in entries]
    if narrow and max(narrow) + shift > 0xFFFFFFFF:
        with pytest.raises(_embeddable.Unsupported, match="overflow"):
            _embeddable.patch_offsets(patched, shift)
        return
    _embeddable.patch_offsets(patched, shift)
    before, after = _tables(moov), _tables(bytes(patched))
    assert [(at, w) for at, w, _ in before] == [(at, w) for at, w, _ in after]
    assert all(new == tuple(o + shift for o in old) for (_, _, old), (_, _, new) in zip(before, after))
    changed = set()
    for at, width, entries in before:
        changed.update(range(at, at + width * len(entries)))
    assert all(moov[i] == patched[i] for i in range(len(moov)) if i not in changed)


@pytest.mark.parametrize(
    "table",
    [
        _box(b"stco", bytes(4) + struct.pack(">II", 1000, 40)),  # says 1000 entries, holds one
        _box(b"co64", bytes(3)),  # no entry count at all
        _box(b"moof", _box(b"traf", _box(b"tfhd", b"\x00\x00\x00\x01" + bytes(4)))),  # base-data-offset missing
        _box(b"mfra", _box(b"tfra", b"\x01" + bytes(6))),
    ],
)
def test_malformed_offset_tables_are_refused_not_crashed_on(table):
    with pytest.raises(_embeddable.Unsupported, match="malformed"):
        _embeddable.patch_offsets(bytearray(_box(b"moov", table)), 0)
