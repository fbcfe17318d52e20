"""A second, independent reader (@trustnxt/c2pa-ts, pure TypeScript) must agree with c2pa-rs
on ReelGuard's files: valid, tampered and stripped, for each signing algorithm. A bug in how
we build manifests cannot hide behind the library that also reads them."""

from __future__ import annotations

import struct

import pytest

from detectors.provenance import read_provenance
from governance.provenance.keys import create_identity, trust_bundle_pem
from governance.provenance.signing import sign_video
from tests.c2pa_ts.support import C2PA_TS_READY, C2PA_TS_SKIP, c2pa_ts_read, make_clip, make_spec, new_settings, remux

pytestmark = pytest.mark.skipif(not C2PA_TS_READY, reason=C2PA_TS_SKIP)

ALGORITHMS = ("es256", "es384", "ed25519", "ps256")
REELGUARD_LABELS = ("c2pa.actions.v2", "c2pa.soft-binding", "org.reelguard.generation", "cawg.training-mining",
                    "org.reelguard.aigc", "org.reelguard.sb942", "c2pa.hash.bmff.v3")


def _mdat_middle(data: bytes) -> int:
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"mdat":
            return pos + size // 2
        pos += size
    raise AssertionError("no mdat")


def _signature_byte(data: bytes) -> int:
    jumb = data.find(b"c2pa.signature\0") - 33  # back over jumd type + toggles + headers
    return jumb + struct.unpack(">I", data[jumb : jumb + 4])[0] - 8


def _assertion_byte(data: bytes) -> int:
    return data.find(b"0123456789abcdef", data.find(b"org.reelguard.generation\0"))


TAMPERS = {"mdat": _mdat_middle, "signature": _signature_byte, "assertion": _assertion_byte}


@pytest.fixture(scope="module")
def readings(tmp_path_factory):
    """Every variant for every algorithm, read by both readers (one Node start in all)."""
    cases = {}
    clip = make_clip(tmp_path_factory.mktemp("src") / "clip.mp4")
    for algorithm in ALGORITHMS:
        base = tmp_path_factory.mktemp(algorithm)
        settings = new_settings(base)
        asset = sign_video(clip, base / "signed.mp4", spec=make_spec(), identity=create_identity(settings, algorithm=algorithm))
        anchors = trust_bundle_pem(settings)
        cases[(algorithm, "signed")] = asset.path
        for name, locate in TAMPERS.items():
            data = bytearray(asset.path.read_bytes())
            data[locate(bytes(data))] ^= 0x01
            (base / f"{name}.mp4").write_bytes(bytes(data))
            cases[(algorithm, name)] = base / f"{name}.mp4"
        cases[(algorithm, "remuxed")] = remux(asset.path, base / "remuxed.mp4")
        cases[(algorithm, "anchors")] = anchors
    theirs = c2pa_ts_read(*(p for k, p in cases.items() if k[1] != "anchors"))
    out = {}
    for (algorithm, name), path in cases.items():
        if name != "anchors":
            ours = read_provenance(path, trust_anchors_pem=cases[(algorithm, "anchors")])
            out[(algorithm, name)] = (ours, theirs[str(path)])
    return out


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_both_readers_accept_the_signed_file(readings, algorithm):
    ours, theirs = readings[(algorithm, "signed")]
    assert ours.state == "trusted"
    assert theirs["manifest"] and theirs["valid"] and theirs["error"] is None, theirs
    assert theirs["active_label"] == ours.manifest_label
    assert set(REELGUARD_LABELS) <= set(theirs["assertions"])


@pytest.mark.parametrize("case", sorted(TAMPERS))
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_both_readers_reject_tampering(readings, algorithm, case):
    ours, theirs = readings[(algorithm, case)]
    assert ours.state == "invalid" and ours.codes
    assert theirs["manifest"] and not theirs["valid"] and theirs["failures"], theirs


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_both_readers_see_no_manifest_after_a_remux(readings, algorithm):
    ours, theirs = readings[(algorithm, "remuxed")]
    assert ours.state == "absent" and theirs["manifest"] is False
