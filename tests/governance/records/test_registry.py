"""ProtectedRegistry end to end on small real pictures: add, match, duplicates, removal, bad input."""

from __future__ import annotations

import json
import threading

import cv2
import numpy as np
import pytest
from sqlmodel import Session, select

from detectors.errors import MediaError
from detectors.video_io import write_video
from governance.core.settings import get_settings
from governance.records.registry import ProtectedRegistry, WorkMatch, WorkNotFound
from governance.records.storage.db import get_engine
from tests.support.clips import pan_across
from tests.support.fingerprint_examples import still

FPS = 10.0
SIZE = (320, 180)


def pan_clip(name: str, seconds: float = 2.0, size=SIZE) -> np.ndarray:
    """A slow pan across a scikit-image still: a short 'video' with real picture content."""
    w, h = size
    return pan_across(still(name, (int(w * 1.3), int(h * 1.3))), frames=int(seconds * FPS), window=(w, h))


def letterbox(frames: np.ndarray) -> np.ndarray:
    n, h, w, _ = frames.shape
    inner = int(h * 0.7) // 2 * 2
    out = np.zeros_like(frames)
    top = (h - inner) // 2
    for i, f in enumerate(frames):
        out[i, top : top + inner] = cv2.resize(f, (w, inner), interpolation=cv2.INTER_AREA)
    return out


def centre_crop(frames: np.ndarray, keep: float = 0.7) -> np.ndarray:
    n, h, w, _ = frames.shape
    y, x = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
    return np.stack([cv2.resize(f[y : h - y, x : w - x], (w, h)) for f in frames])


def make_registry(home, url: str | None = None) -> ProtectedRegistry:
    settings = get_settings(home=home, database_url=url)
    settings.ensure_dirs()
    return ProtectedRegistry(get_engine(settings.resolved_database_url), settings)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    paths = {}
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        paths[name] = write_video(root / f"{name}.mp4", pan_clip(name), fps=FPS, preset="ultrafast")
    return paths


@pytest.fixture(scope="module")
def registry(tmp_path_factory, media):
    reg = make_registry(tmp_path_factory.mktemp("home"))
    for name in ("astronaut", "coffee", "chelsea"):
        reg.add_path(media[name], owner="Studio", title=name.title())
    return reg


def _titles(matches: list[WorkMatch]) -> list[str]:
    return [m.title for m in matches]


def test_empty_registry_answers_without_decoding(tmp_path):
    reg = make_registry(tmp_path)

    def never():
        raise AssertionError("frames were read although the registry is empty")
        yield  # pragma: no cover

    assert reg.match_frames(never(), fps=25) == []
    assert reg.list_works() == []


@pytest.mark.parametrize(
    "transform,expected_fp",
    [
        (lambda c: c, "pdq"),
        (letterbox, "pdq"),
        (lambda c: np.ascontiguousarray(c[:, :, ::-1]), "pdq"),
        (centre_crop, "orb"),
    ],
)
def test_transformed_copy_matches_its_work_only(registry, transform, expected_fp):
    matches = registry.match_frames(transform(pan_clip("coffee")), fps=FPS)
    assert _titles(matches) == ["Coffee"], matches
    m = matches[0]
    assert m.query_coverage >= 0.5 and 0 < m.score <= 1
    assert m.query_start <= 0.5 and m.query_end >= 1.5
    if expected_fp == "orb":
        assert m.fingerprint == "orb"
    assert set(m.to_dict()) >= {
        "work_id",
        "title",
        "owner",
        "score",
        "query_start",
        "query_end",
        "ref_start",
        "ref_end",
        "query_coverage",
        "fingerprint",
    }


def test_sub_clip_reports_aligned_segment(registry):
    long = pan_clip("chelsea", seconds=2.0)
    matches = registry.match_frames(long[8:16], fps=FPS)  # 0.8 s - 1.6 s of the reference
    assert _titles(matches) == ["Chelsea"]
    m = matches[0]
    assert m.query_coverage >= 0.8
    assert 0.4 <= m.ref_start <= 1.1 and 1.1 <= m.ref_end <= 1.9


def test_unregistered_picture_does_not_match(registry):
    assert registry.match_frames(pan_clip("rocket"), fps=FPS) == []
    assert registry.match_frames(still("camera"), fps=FPS) == []


def test_duplicate_registration_is_idempotent(registry, media):
    before = registry.list_works()
    again = registry.add_path(media["coffee"], owner="Someone", title="Again")
    assert again.duplicate and again.assets == 0
    assert again.work_id == next(w.id for w in before if w.title == "Coffee")
    assert len(registry.list_works()) == len(before)


def test_match_path_and_bad_media(registry, media, tmp_path):
    assert _titles(registry.match_path(media["astronaut"])) == ["Astronaut"]
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        registry.match_path(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(MediaError):
        registry.match_path(junk)


def test_folder_with_junk_registers_what_it_can(tmp_path, media):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "rocket.mp4").write_bytes(media["rocket"].read_bytes())
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "notes.txt").write_text("hello")
    cv2.imwrite(str(folder / "still.png"), still("camera", SIZE)[:, :, ::-1])
    reg = make_registry(tmp_path / "home")
    result = reg.add_path(folder, owner="O", title="Mixed")
    assert result.assets == 2 and not result.duplicate
    assert {p.split("/")[-1] for p, _ in [(s.path, s.reason) for s in result.skipped]} == {"zero.mp4", "notes.txt"}
    assert _titles(reg.match_frames(still("camera", (640, 360)), fps=1)) == ["Mixed"]
    with pytest.raises(MediaError, match="no registrable media"):
        reg.add_path(folder / "notes.txt", owner="O", title="T")


def test_remove_is_audited_and_index_follows(tmp_path, media):
    from governance.records.audit.models import AuditEntry

    reg = make_registry(tmp_path)
    work = reg.add_path(media["rocket"], owner="O", title="Rocket")
    assert _titles(reg.match_path(media["rocket"])) == ["Rocket"]
    other = make_registry(tmp_path)  # a second process on the same database and cache
    assert _titles(other.match_path(media["rocket"])) == ["Rocket"]
    reg.remove(work.work_id)
    assert reg.match_path(media["rocket"]) == [] and other.match_path(media["rocket"]) == []
    with pytest.raises(WorkNotFound):
        reg.remove(work.work_id)
    with Session(reg.engine) as session:
        kinds = [
            json.loads(e.payload)["event"]["action"]
            for e in session.exec(
                select(AuditEntry).where(AuditEntry.kind == "registry.change").order_by(AuditEntry.leaf_index)
            )
        ]
    assert kinds == ["add", "remove"]


def test_corrupt_index_is_rebuilt_from_the_database(tmp_path, media):
    reg = make_registry(tmp_path)
    reg.add_path(media["chelsea"], owner="O", title="Chelsea")
    for name in ("pdq.npz", "orb.npz"):
        path = reg.settings.cache_path / "registry" / name
        assert path.exists()
        path.write_bytes(path.read_bytes()[:100])
    fresh = make_registry(tmp_path)
    assert _titles(fresh.match_path(media["chelsea"])) == ["Chelsea"]


def test_export_import_roundtrip(tmp_path, registry, media):
    out = tmp_path / "registry.json"
    assert registry.export(out) == len(registry.list_works())
    other = make_registry(tmp_path / "other")
    result = other.import_(out)
    assert result.works == len(registry.list_works()) and result.skipped_assets == 0
    assert other.import_(out).assets == 0
    assert _titles(other.match_path(media["coffee"])) == ["Coffee"]


def test_concurrent_add_while_matching(tmp_path, media):
    reg = make_registry(tmp_path)
    reg.add_path(media["coffee"], owner="O", title="Coffee")
    errors, results = [], []

    def matcher():
        try:
            for _ in range(3):
                results.append(_titles(make_registry(tmp_path).match_path(media["coffee"])))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    thread = threading.Thread(target=matcher)
    thread.start()
    reg.add_path(media["astronaut"], owner="O", title="Astronaut")
    thread.join()
    assert not errors and all(r == ["Coffee"] for r in results)
    assert _titles(reg.match_path(media["astronaut"])) == ["Astronaut"]


def _smooth_pan(seed: int, seconds: float = 2.0) -> np.ndarray:
    """A pan across a smooth colour field: too few corners for ORB, PDQ bits near the median."""
    w, h = SIZE
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : int(h * 1.3), 0 : int(w * 1.3)].astype(np.float32) / w
    big = np.stack(
        [
            128
            + sum(
                a * np.cos(2 * np.pi * (fx * xx + fy * yy) + p)
                for a, fx, fy, p in zip(
                    rng.uniform(20, 60, 3),
                    rng.uniform(0.2, 1.0, 3),
                    rng.uniform(0.2, 1.0, 3),
                    rng.uniform(0, 6.3, 3),
                    strict=True,
                )
            )
            for _ in range(3)
        ],
        axis=2,
    )
    big = np.clip(big, 0, 255).astype(np.uint8)
    xs = np.linspace(0, big.shape[1] - w, int(seconds * FPS)).astype(int)
    return np.stack([big[:h, x : x + w] for x in xs])


def test_smooth_work_matches_through_layout(tmp_path):
    """A flat, smooth work is found after a crop and a brightness lift; another smooth field is not."""
    reg = make_registry(tmp_path)
    work = _smooth_pan(11)
    path = write_video(tmp_path / "wash.mp4", work, fps=FPS, preset="ultrafast")
    work_id = reg.add_path(path, owner="Studio", title="Wash").work_id
    query = np.clip(centre_crop(work, 0.75).astype(np.int16) + 20, 0, 255).astype(np.uint8)
    matches = reg.match_frames(query, fps=FPS)
    assert _titles(matches) == ["Wash"] and matches[0].fingerprint == "layout"
    assert matches[0].query_coverage >= 0.5
    assert reg.match_frames(_smooth_pan(12), fps=FPS) == []
    reg.remove(work_id)  # the in-memory thumbnails follow the database
    assert reg.match_frames(query, fps=FPS) == []
