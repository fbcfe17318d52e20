"""The likeness guard end to end: enrol -> refused at the gate -> licence -> allowed -> revoked
-> refused; prompts naming an enrolled person exit 5; verify reports the face; bad photos."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from detectors.errors import MediaError, MediaTooLargeError
from detectors.faces import NoFaceFound, SeveralFaces
from detectors.video_io import write_video
from governance.core.errors import PolicyDenied
from governance.core.settings import get_settings
from governance.flows import FlowContext, GenerateRequest, generate, verify
from governance.flows.likeness import (
    LikenessBlocked,
    check_likeness,
    enroll_person,
    list_people,
    remove_person,
    scan_clip,
)
from governance.flows.verify import VerifyOptions
from governance.records.audit.models import AuditEntry
from governance.records.likeness import LikenessDescriptor
from governance.records.storage.records import GenerationRecord
from tests.governance.flows.conftest import ClipGenerator, face_photo

PERSON = "barack-obama"


@pytest.fixture
def ctx(home):
    return FlowContext(get_settings(), semantic_policy=False)


def audit_kinds(ctx) -> list[str]:
    with Session(ctx.engine) as session:
        return [e.kind for e in session.exec(select(AuditEntry).order_by(AuditEntry.leaf_index))]


def audit_events(ctx, kind: str) -> list[dict]:
    with Session(ctx.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.kind == kind).order_by(AuditEntry.leaf_index))
        return [json.loads(r.payload)["event"] for r in rows]


def test_enrol_refuse_grant_allow_revoke_refuse_on_the_output(ctx, tmp_path, obama_clip):
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg"), face_photo("test_images/obama3.jpg")], name="Barack Obama")
    ctx._generators[""] = ClipGenerator(obama_clip)
    out = tmp_path / "out.mp4"
    request = GenerateRequest(prompt="a man giving a speech", output=out, force=True)

    with pytest.raises(LikenessBlocked) as refused:
        generate(ctx, request)
    assert refused.value.exit_code == 5 and refused.value.stage == "output"
    assert refused.value.person_ids == (PERSON,) and refused.value.decision.to_dict()["persons"] == [PERSON]
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())
    with Session(ctx.engine) as session:
        assert session.exec(select(GenerationRecord)).all() == []
    refusal = audit_events(ctx, "likeness.refusal")[-1]
    assert refusal["stage"] == "output" and refusal["person_ids"] == [PERSON] and refusal["matches"]

    lic = ctx.consent.grant(person_id=PERSON, granted_by="Office of Barack Obama", scope="video")
    outcome = generate(ctx, request)
    assert outcome.output.is_file() and "likeness_check" in outcome.timings_s
    used = audit_events(ctx, "likeness.license_used")
    assert used == [
        {
            "kind": "likeness.license_used",
            "stage": "output",
            "person_id": PERSON,
            "license_id": lic.id,
            "scope": "video",
            "content_id": outcome.content_id,
        }
    ]
    assert audit_events(ctx, "likeness.scan")[-1]["person_ids"] == [PERSON]

    ctx.consent.revoke(license_id=lic.id, revoked_by="Office of Barack Obama")
    with pytest.raises(LikenessBlocked):
        generate(ctx, GenerateRequest(prompt="a man giving a speech", output=tmp_path / "again.mp4"))
    assert not (tmp_path / "again.mp4").exists()


def test_nobody_enrolled_costs_no_scan_and_other_faces_pass(ctx, biden_clip, obama_clip):
    assert check_likeness(ctx, obama_clip, fps=8).scan.frames_sampled == 0  # nothing decoded or scanned
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")])
    check = check_likeness(ctx, biden_clip, fps=8, stage="reference")
    assert check.allowed and check.scan.frames_sampled > 0 and check.scan.faces and check.scan.matches == ()
    with pytest.raises(LikenessBlocked) as blocked:
        check_likeness(ctx, face_photo("obama.jpg"), stage="reference")  # a still: one frame is enough
    assert blocked.value.stage == "reference" and blocked.value.decision.rule_id == "likeness.reference"
    assert isinstance(blocked.value, PolicyDenied)


def test_verify_reports_likeness_matches_and_the_flag(ctx, tmp_path, obama_clip, biden_clip):
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")], name="Barack Obama")
    clip = write_video(tmp_path / "obama.mp4", obama_clip, fps=8)
    report = verify(ctx, clip)
    assert "likeness-match" in report.flags
    (match,) = report.to_dict()["likeness"]["matches"]
    assert (match["person_id"], match["name"]) == (PERSON, "Barack Obama")
    assert match["score"] > 0.5 and len(match["frames"]) >= 2 and match["first_seen_s"] == 0.0
    other = verify(ctx, write_video(tmp_path / "biden.mp4", biden_clip, fps=8))
    assert "likeness-match" not in other.flags and other.to_dict()["likeness"]["matches"] == []
    assert [e["stage"] for e in audit_events(ctx, "likeness.scan")] == ["verify", "verify"]


def test_removal_erases_and_the_person_is_no_longer_found(ctx, obama_clip):
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")])
    assert scan_clip(ctx, obama_clip, fps=8).matches[0].person_id == PERSON
    assert remove_person(ctx, PERSON).descriptors_erased == 1
    with Session(ctx.engine) as session:
        assert session.exec(select(LikenessDescriptor)).all() == []
    assert list_people(ctx) == [] and scan_clip(ctx, obama_clip, fps=8).matches == ()
    assert audit_kinds(ctx).count("likeness.remove") == 1


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">II5B", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_bad_photos_are_refused_clearly_and_nothing_is_enrolled_halfway(ctx, tmp_path):
    import cv2
    import numpy as np

    good = face_photo("obama.jpg")
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(30000, 30000) + b"\x00" * 64)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(good.read_bytes()[:2000])
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.full((24, 24, 3), 200, np.uint8))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((300, 300, 3), 120, np.uint8))
    video = require_video()
    cases = [
        (face_photo("two_people.jpg"), SeveralFaces, "2 faces"),
        (huge, MediaTooLargeError, "30000"),
        (corrupt, MediaError, "corrupt"),
        (tiny, NoFaceFound, "too small"),
        (blank, NoFaceFound, "no face"),
        (video, MediaError, "not an image"),
    ]
    for bad, error, words in cases:
        with pytest.raises(error, match=words):
            enroll_person(ctx, "jane-doe", [good, bad])
    assert list_people(ctx) == [] and "likeness.enroll" not in audit_kinds(ctx)


def require_video():
    from tests.conftest import SHARED, require_shared

    return require_shared(SHARED / "faces" / "videos" / "lp_s13.mp4")


def test_cli_verbs_and_exit_codes(home, tmp_path, obama_clip):
    from governance.service.cli.main import app

    runner = CliRunner()
    enrolled = runner.invoke(
        app, ["likeness", "enroll", PERSON, str(face_photo("obama2.jpg")), "--name", "Barack Obama"]
    )
    assert enrolled.exit_code == 0, enrolled.output
    assert runner.invoke(app, ["likeness", "enroll", "x", str(face_photo("two_people.jpg"))]).exit_code == 29
    listed = json.loads(runner.invoke(app, ["likeness", "list", "--json"]).stdout)
    assert [p["person_id"] for p in listed["people"]] == [PERSON]
    clip = write_video(tmp_path / "obama.mp4", obama_clip, fps=8)
    scanned = runner.invoke(app, ["likeness", "scan", str(clip), "--json"])
    assert scanned.exit_code == 0, scanned.output
    body = json.loads(scanned.stdout)
    assert body["matches"][0]["person_id"] == PERSON and body["faces"][0]["nearest"][0]["person_id"] == PERSON
    verified = json.loads(runner.invoke(app, ["verify", str(clip), "--json"]).stdout)
    assert verified["likeness"]["matches"][0]["person_id"] == PERSON and "likeness-match" in verified["flags"]

    # the prompt side: a named, enrolled person without a licence is a likeness refusal (5) ...
    named = runner.invoke(app, ["generate", "Barack Obama giving a speech", "-o", str(tmp_path / "a.mp4"), "--json"])
    assert named.exit_code == 5, named.output
    assert PERSON in json.loads(named.stdout)["decision"]["persons"]
    # ... a named person who is not enrolled keeps the policy's own code (3)
    other = runner.invoke(app, ["generate", "Joe Biden giving a speech", "-o", str(tmp_path / "b.mp4"), "--json"])
    assert other.exit_code == 3, other.output

    removed = runner.invoke(app, ["likeness", "remove", PERSON])
    assert removed.exit_code == 0 and "1 descriptor(s) erased" in removed.output
    assert runner.invoke(app, ["likeness", "remove", PERSON]).exit_code == 19


class DecodeSpy:
    """Wraps ``detectors.video_io.read_coded_frames``: counts decoder opens and frames decoded."""

    def __init__(self, monkeypatch) -> None:
        from detectors import video_io

        self.opens: list[dict] = []
        self.frames = 0
        real = video_io.read_coded_frames

        def spy(path, **kwargs):
            self.opens.append(kwargs)
            for coded in real(path, **kwargs):
                self.frames += 1
                yield coded

        monkeypatch.setattr(video_io, "read_coded_frames", spy)


def _faces(scan) -> list[dict]:
    return [f.to_dict() for f in scan.faces]


def test_verify_decodes_the_clip_once_and_finds_what_a_scan_of_its_own_finds(ctx, tmp_path, obama_clip, monkeypatch):
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")], name="Barack Obama")
    clip = write_video(tmp_path / "obama.mp4", obama_clip, fps=8)
    alone = scan_clip(ctx, clip, audit=False, max_samples=120)  # its own decode, as verify did before
    spy = DecodeSpy(monkeypatch)
    report = verify(ctx, clip)
    assert len(spy.opens) == 1 and spy.frames == len(obama_clip)  # one decoder, every frame once
    assert report.likeness is not None and report.likeness.matches == alone.matches
    assert _faces(report.likeness) == _faces(alone) and report.likeness.frames_sampled == alone.frames_sampled
    assert report.watermark is not None and report.watermark.frames_used == len(obama_clip)

    spy = DecodeSpy(monkeypatch)  # without the watermark stage the faces still get one decode
    registry_only = verify(ctx, clip, options=VerifyOptions(stages=frozenset({"c2pa", "registry"})))
    assert len(spy.opens) == 1 and registry_only.likeness.matches == alone.matches


def test_verify_with_nobody_enrolled_examines_no_frame_for_faces(ctx, tmp_path, obama_clip, monkeypatch):
    from detectors.faces import ClipScanner

    def refuse(self, frame):
        raise AssertionError("a frame reached the face scanner with nobody enrolled")

    monkeypatch.setattr(ClipScanner, "add", refuse)
    spy = DecodeSpy(monkeypatch)
    report = verify(ctx, write_video(tmp_path / "obama.mp4", obama_clip, fps=8))
    assert report.likeness is None and report.to_dict()["likeness"] == {"matches": [], "scanned": False}
    assert [o["max_frames"] for o in spy.opens] == [240]  # the watermark's own bound, nothing more
    assert audit_events(ctx, "likeness.scan") == []


def test_the_gate_stops_describing_a_confirmed_face_but_decides_as_a_full_scan(ctx, obama_clip):
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")])
    ctx.consent.grant(person_id=PERSON, granted_by="Office of Barack Obama", scope="video")
    full = scan_clip(ctx, obama_clip, fps=8, audit=False)
    gate = check_likeness(ctx, obama_clip, fps=8).scan
    assert [m.person_id for m in gate.matches] == [m.person_id for m in full.matches] == [PERSON]
    assert gate.faces_tracked > 0 and len(gate.faces) < len(full.faces)
    assert gate.faces_found == full.faces_found and gate.frames_sampled == full.frames_sampled
    with pytest.raises(MediaError):  # a frame the scanner cannot use fails the gate, never passes it
        check_likeness(ctx, [obama_clip[0], obama_clip[1][:, :, 0]], fps=8)


def test_when_the_watermark_stops_reading_the_faces_read_on_from_the_same_decoder(
    ctx, tmp_path, obama_clip, monkeypatch
):
    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")])
    clip = write_video(tmp_path / "obama.mp4", obama_clip, fps=8)
    alone = scan_clip(ctx, clip, audit=False, max_samples=120)
    spy = DecodeSpy(monkeypatch)
    report = verify(ctx, clip, options=VerifyOptions(max_frames=6))  # the watermark's bound: 6 frames
    assert report.watermark is not None and report.watermark.frames_used == 6
    assert len(spy.opens) == 1 and spy.frames == len(obama_clip)  # the faces read the rest, same decoder
    assert report.likeness is not None and report.likeness.matches == alone.matches
    assert _faces(report.likeness) == _faces(alone)


def test_a_failing_watermark_leaves_the_faces_to_read_on(ctx, tmp_path, obama_clip, monkeypatch):
    from detectors.errors import WatermarkError

    enroll_person(ctx, PERSON, [face_photo("obama2.jpg")])
    ctx.consent.grant(person_id=PERSON, granted_by="Office of Barack Obama", scope="video")
    ctx._generators[""] = ClipGenerator(obama_clip)
    signed = generate(ctx, GenerateRequest(prompt="a man giving a speech", output=tmp_path / "ours.mp4")).output

    class Broken:
        def detect(self, frames, *, key, max_frames=None):
            for _, _frame in zip(range(3), frames, strict=False):
                pass
            raise WatermarkError("the detector broke on the fourth frame")

    monkeypatch.setattr(ctx, "watermark", Broken())
    report = verify(ctx, signed)  # the credentials stand, so verify reports instead of raising
    assert any(r.startswith("pixels not examined: the detector broke") for r in report.reasons)
    assert report.likeness is not None and [m.person_id for m in report.likeness.matches] == [PERSON]
