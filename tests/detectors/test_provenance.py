"""Reading and interpreting C2PA manifests: states, codes, and every tamper case at manifest level."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import av
import pytest

try:
    from tests.c2pa_ts.support import make_clip, make_spec, new_settings
except ModuleNotFoundError:  # tests/detectors has no __init__.py: put the repo root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.c2pa_ts.support import make_clip, make_spec, new_settings

from detectors.errors import MediaError, ProvenanceError
from detectors.provenance import ProvenanceReport, interpret, read_manifest_store, read_provenance


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    from governance.provenance.keys import load_or_create_identity, trust_bundle_pem
    from governance.provenance.signing import sign_video

    base = tmp_path_factory.mktemp("provenance")
    settings = new_settings(base)
    identity = load_or_create_identity(settings)
    asset = sign_video(make_clip(base / "clip.mp4", frames=8), base / "signed.mp4", spec=make_spec(), identity=identity)
    return asset, trust_bundle_pem(settings), base


def _boxes(data: bytes) -> dict[str, tuple[int, int]]:
    """Top-level MP4 boxes: type -> (offset, size); the C2PA box is the ``uuid`` one."""
    out, pos = {}, 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        out.setdefault(kind.decode("latin-1"), (pos, size))
        pos += size if size else len(data)
    return out


def _jumbf_box(data: bytes, label: bytes) -> tuple[int, int]:
    """(offset, size) of the JUMBF superbox whose description carries ``label``."""
    at = data.find(label + b"\0")
    jumb = at - 17 - 8 - 8  # label follows: jumd header (8), type uuid (16), toggles (1); jumb header (8)
    size = struct.unpack(">I", data[jumb : jumb + 4])[0]
    assert data[jumb + 4 : jumb + 8] == b"jumb"
    return jumb, size


def _tampered(asset, tmp_path: Path, name: str, edit) -> Path:
    data = bytearray(asset.path.read_bytes())
    edit(data)
    out = tmp_path / f"{name}.mp4"
    out.write_bytes(bytes(data))
    return out


def test_signed_clip_reads_trusted_and_plain_clip_absent(signed, tmp_path):
    asset, anchors, base = signed
    report = read_provenance(asset.path, trust_anchors_pem=anchors)
    assert isinstance(report, ProvenanceReport) and report.state == "trusted" and report.ok
    assert report.to_dict()["soft_binding"] == {"alg": "reelguard.ss.v1", "payload_hex": "00112233aabbccdd"}
    plain = read_provenance(base / "clip.mp4", trust_anchors_pem=anchors)
    assert plain.state == "absent" and plain.codes == () and plain.manifest is None
    assert plain.to_dict()["state"] == "absent"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("mdat", "assertion.bmffHash.mismatch"),
        ("moov", "assertion.bmffHash.mismatch"),
        ("signature", "claimSignature.mismatch"),
        ("assertion", "assertion.hashedURI.mismatch"),
    ],
)
def test_byte_flips_are_invalid_with_the_right_code(signed, tmp_path, case, expected):
    asset, anchors, _ = signed

    def edit(data: bytearray) -> None:
        if case == "mdat":
            offset, size = _boxes(bytes(data))[case]
            data[offset + size // 2] ^= 0x01
        elif case == "moov":
            offset, _ = _boxes(bytes(data))[case]
            assert data[offset + 12 : offset + 16] == b"mvhd"
            data[offset + 8 + 8 + 4 + 3] ^= 0x01  # mvhd creation time: structure intact, bytes changed
        elif case == "signature":
            offset, size = _jumbf_box(bytes(data), b"c2pa.signature")
            data[offset + size - 8] ^= 0x01  # inside the signature bytes at the end of COSE_Sign1
        else:
            offset, size = _jumbf_box(bytes(data), b"org.reelguard.generation")
            at = data.find(b"0123456789abcdef", offset, offset + size)
            data[at] = ord("f")  # content_id changes; the claim's hashed URI no longer matches

    report = read_provenance(_tampered(asset, tmp_path, case, edit), trust_anchors_pem=anchors)
    assert report.state == "invalid" and expected in report.codes, report.codes
    assert not report.ok


def test_truncation_and_appended_junk_are_never_trusted(signed, tmp_path):
    asset, anchors, _ = signed
    size = asset.path.stat().st_size
    truncated = _tampered(asset, tmp_path, "truncated", lambda d: d.__delitem__(slice(size - 500, None)))
    junk = _tampered(asset, tmp_path, "junk", lambda d: d.extend(b"\0\0\0\x10junkJUNKjunkJUNK"))
    for path in (truncated, junk):
        report = read_provenance(path, trust_anchors_pem=anchors)
        assert report.state == "invalid" and (report.codes or report.error), (path.name, report)
        assert not report.ok


def test_remux_strips_the_manifest(signed, tmp_path):
    asset, anchors, _ = signed
    out = tmp_path / "remuxed.mp4"
    with av.open(str(asset.path)) as src, av.open(str(out), "w", format="mp4") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    assert read_provenance(out, trust_anchors_pem=anchors).state == "absent"


def test_grafted_manifest_box_fails_the_hard_binding(signed, tmp_path):
    asset, anchors, base = signed
    donor = asset.path.read_bytes()
    offset, size = _boxes(donor)["uuid"]
    other = make_clip(tmp_path / "other.mp4", seed=9, frames=8).read_bytes()
    ftyp_end = sum(_boxes(other)["ftyp"])
    grafted = tmp_path / "grafted.mp4"
    grafted.write_bytes(other[:ftyp_end] + donor[offset : offset + size] + other[ftyp_end:])
    report = read_provenance(grafted, trust_anchors_pem=anchors)
    assert report.state == "invalid" and "assertion.bmffHash.mismatch" in report.codes
    assert report.content_id == "0123456789abcdef"  # the claim is still readable, just not about these bytes


def test_manifest_store_alone_checks_signature_and_trust(signed):
    asset, anchors, _ = signed
    report = read_manifest_store(asset.manifest_bytes, trust_anchors_pem=anchors)
    assert report.source == "store" and report.manifest_label == asset.manifest_label
    # no asset to bind to: the binding's mismatch is set aside, the signature and trust still count
    assert report.codes == () and report.binding_checked is False and report.state == "trusted"
    assert report.content_id == "0123456789abcdef"
    assert read_manifest_store(asset.manifest_bytes).state == "valid"  # without anchors: untrusted
    broken = bytearray(asset.manifest_bytes)
    at = broken.find(b"0123456789abcdef")  # inside the generation assertion, which the claim hashes
    broken[at] = ord("f")
    changed = read_manifest_store(bytes(broken), trust_anchors_pem=anchors)
    assert changed.state == "invalid" and "assertion.hashedURI.mismatch" in changed.codes


def test_bad_input_is_clear(tmp_path, signed):
    asset, anchors, _ = signed
    with pytest.raises(MediaError, match="no such file"):
        read_provenance(tmp_path / "missing.mp4")
    huge = tmp_path / "huge.c2pa"
    with open(huge, "wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    with pytest.raises(ProvenanceError, match="exceeds"):
        read_provenance(asset.path, sidecar=huge)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(MediaError, match="unrecognised format"):
        read_provenance(text)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        read_provenance(empty)
    webm = tmp_path / "clip.webm"
    webm.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 64)
    assert read_provenance(webm).state == "absent"  # c2pa-rs cannot carry a manifest in WebM
    with pytest.raises(ProvenanceError, match="trust settings"):
        read_provenance(asset.path, trust_anchors_pem="-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")


def test_interpret_handles_foreign_and_degenerate_reader_json():
    label = "urn:c2pa:1234"
    store = {
        "active_manifest": label,
        "validation_state": "Invalid",
        "manifests": {label: {
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
                 "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}},
                {"label": "c2pa.soft-binding", "data": {"alg": "com.example.wm", "blocks": [{"scope": {}, "value": [1, 2, 255]}]}},
            ],
            "signature_info": {"common_name": "Camera", "time": "2025-01-01T00:00:00+00:00"},
        }},
    }
    report = interpret(store)
    assert report.state == "invalid" and report.codes == ("validation.notPerformed",)
    assert report.claims_ai_generated is False and report.soft_binding.payload_hex == "0102ff"
    assert report.signed_at.year == 2025 and report.content_id is None and report.aigc is None
    assert interpret({"validation_state": "Valid"}).state == "invalid"


def test_labels_agree_with_the_signing_side():
    import detectors.provenance.reader as reading
    import governance.provenance.signing as writing

    for name in ("GENERATION_LABEL", "AIGC_LABEL", "SB942_LABEL", "TRAINING_MINING_LABEL"):
        assert getattr(reading, name) == getattr(writing, name)
    assert writing.TRAINED_ALGORITHMIC_MEDIA in reading.AI_SOURCE_TYPES


def test_hostile_manifest_box_size_is_not_parsed(signed, tmp_path):
    from detectors.provenance import reader as provenance

    asset, anchors, _ = signed
    data = bytearray(asset.path.read_bytes())
    offset, size = _boxes(bytes(data))["uuid"]
    grown = size + 70 * 1024 * 1024  # claims 70 MB more than the ~15 kB it holds
    hostile = tmp_path / "hostile.mp4"
    with open(hostile, "wb") as handle:
        handle.write(data[:offset] + grown.to_bytes(4, "big") + data[offset + 4 : offset + size])
        handle.seek(offset + grown)  # sparse: the box really is that long, so the walk stays aligned
        handle.write(data[offset + size :])
    report = read_provenance(hostile, trust_anchors_pem=anchors)
    assert report.state == "invalid" and "exceeds" in report.error and not report.ok
    assert provenance.MAX_MANIFEST_BOX_BYTES < grown


def test_public_names_and_import_rule():
    import ast
    import importlib

    for name in ("detectors.provenance", "governance.provenance.keys", "governance.provenance.signing", "governance.provenance.timestamp",
                 "governance.provenance.manifest_store"):
        module = importlib.import_module(name)
        assert all(hasattr(module, public) for public in module.__all__), name
    tree = ast.parse(Path(importlib.import_module("detectors.provenance").__file__).read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m.split(".")[0] == "governance" for m in imported)  # detectors never import governance


@pytest.mark.parametrize("assertion", [
    {"label": "com.evil.x", "data": {"actions": 5}},
    {"label": "c2pa.actions.v2", "data": {"actions": "created"}},
    {"label": "c2pa.soft-binding", "data": {"alg": "x", "blocks": 5}},
    {"label": "cawg.identity", "data": {"signer_payload": 5, "verifiedIdentities": {"a": 1}}},
    {"label": "stds.exif", "data": 7},
])
def test_signer_written_shapes_never_crash_interpretation(assertion):
    """Assertions hold whatever their signer wrote: odd shapes are read around, never raised."""
    label = "urn:c2pa:odd"
    store = {"active_manifest": label, "validation_state": "Valid",
             "validation_results": {"activeManifest": {"failure": "x"}, "ingredientDeltas": {"x": 1}},
             "manifests": {label: {"assertions": [assertion], "ingredients": "not a list",
                                   "signature_info": {"issuer": "Org"}}}}
    report = interpret(store, crjson={"manifests": [{"label": label, "assertions": {assertion["label"]: assertion["data"]}}]})
    assert report.state == "valid" and report.issuer == "Org"
    assert report.disclosure.label
