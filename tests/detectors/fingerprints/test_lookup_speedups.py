"""The own-output lookup's speed-ups (issue 21) give the answers of the plain path: PDQ-first
extraction equals ``extract``, the staged search decides as the full search over a brute-force
index, and the sampled decoder reads the frames ``read_frames`` would (or a reference frame
next to them)."""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest

from detectors.errors import MediaError, MediaTooLargeError
from detectors.fingerprints.extract import QUERY, REFERENCE, ClipFingerprints, extract, extract_pdq_first
from detectors.fingerprints.index import BruteForceIndex
from detectors.fingerprints.match import (
    ROW_BITS,
    MatchConfig,
    SetInfo,
    best_per_work,
    cascade_best,
    merge_hits,
    pdq_evidence,
    pdq_hits,
)
from detectors.fingerprints.sampling import read_sampled
from detectors.video_io import read_frames, write_video
from tests.support.clips import pan_across
from tests.support.fingerprint_examples import STILL_NAMES, still

# The package re-exports the function ``extract``, which hides the module of the same name.
extract_module = importlib.import_module("detectors.fingerprints.extract")


def _pan(name: str, frames: int = 24, size=(320, 180)) -> np.ndarray:
    """A slow pan across a still (a moving camera: PDQ rows change, ORB finds keypoints)."""
    return pan_across(still(name, (size[0] * 2, size[1])), frames=frames, window=size)


def _same(a: ClipFingerprints, b: ClipFingerprints) -> None:
    for name in ("fps", "frames_seen", "frames_sampled", "duration", "width", "height"):
        assert getattr(a, name) == getattr(b, name), name
    for kind in ("pdq", "orb", "layout"):
        x, y = getattr(a, kind), getattr(b, kind)
        for part in ("codes", "frame", "variant", "quality", "points"):
            assert np.array_equal(getattr(x, part), getattr(y, part)), (kind, part)
        assert np.array_equal(getattr(a, f"{kind}_times"), getattr(b, f"{kind}_times")), kind


@pytest.mark.parametrize("config", [REFERENCE, QUERY], ids=["reference", "query"])
def test_pdq_first_then_keyframes_equals_extract(config):
    frames = np.concatenate([_pan("astronaut"), _pan("coffee"), np.zeros((4, 180, 320, 3), np.uint8)])
    eager = extract(frames, fps=12.0, config=config)
    pending = extract_pdq_first(frames, fps=12.0, config=config)
    assert not pending.computed
    assert len(pending.pdq_only.orb) == 0 and len(pending.pdq_only.layout) == 0
    assert np.array_equal(pending.pdq_only.pdq.codes, eager.pdq.codes)
    assert len(eager.orb) > 0  # the comparison below is about something
    _same(pending.complete(), eager)
    assert pending.computed and pending.complete() is pending.complete()


def test_pdq_first_over_its_memory_bound_still_equals_extract(monkeypatch):
    monkeypatch.setattr(extract_module, "_KEEP_BYTES", 200_000)  # a few shrunk frames, then streaming
    frames = _pan("chelsea", 30)
    pending = extract_pdq_first(frames, fps=12.0, config=QUERY)
    _same(pending.complete(), extract(frames, fps=12.0, config=QUERY))


def test_pdq_first_times_scale_like_the_clip():
    frames = _pan("rocket")
    pending = extract_pdq_first(frames, fps=12.0, config=QUERY)
    pending.scale_times(2.0)
    eager = extract(frames, fps=12.0, config=QUERY).scaled_times(2.0)
    assert np.allclose(pending.pdq_only.pdq_times, eager.pdq_times)
    _same(pending.complete(), eager)


# ---------------------------------------------------------------- the staged search


@dataclass
class _Store:
    index: BruteForceIndex = field(default_factory=BruteForceIndex)
    sets: dict = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    references: dict = field(default_factory=dict)


def _stores(clips: dict[str, ClipFingerprints]) -> dict[str, _Store]:
    """PDQ and ORB brute-force stores of reference clips (the specification the scaled indexes
    are held to), as the registry's ``KindIndex`` lays them out."""
    stores = {"pdq": _Store(), "orb": _Store(), "layout": _Store()}
    for fid, (work, clip) in enumerate(clips.items(), 1):
        for kind in ("pdq", "orb"):
            codes, times = getattr(clip, kind), getattr(clip, f"{kind}_times")
            stores[kind].index.add(codes.codes, (np.int64(fid) << ROW_BITS) + np.arange(len(codes)))
            points = codes.points if kind == "orb" else None
            stores[kind].sets[fid] = SetInfo(fid, fid, work, "video", codes.frame.astype(np.int32), times, points)
    return stores


@pytest.fixture(scope="module")
def library():
    clips = {name: _pan(name) for name in STILL_NAMES[:3]}
    stores = _stores({name: extract(frames, fps=12.0, config=REFERENCE) for name, frames in clips.items()})
    return clips, stores


def _top(best: dict) -> str | None:
    return max(best, key=lambda w: best[w][0]) if best else None


@pytest.mark.parametrize(
    "name, transform, stage",
    [
        ("astronaut", lambda f: f, "pdq"),
        ("coffee", lambda f: cv2.GaussianBlur(f, (5, 5), 1.5), "pdq"),
        ("chelsea", lambda f: np.ascontiguousarray(f[:, ::-1]), "pdq-mirror"),
        ("rocket", lambda f: f, "none"),  # never registered
    ],
)
def test_cascade_decides_as_the_full_search(library, name, transform, stage):
    clips, stores = library
    frames = np.stack([transform(f) for f in (clips[name] if name in clips else _pan(name))])
    query = extract(frames, fps=12.0, config=QUERY)
    full = best_per_work(stores, query, MatchConfig())
    pending = extract_pdq_first(frames, fps=12.0, config=QUERY)
    found = cascade_best(stores, pending.pdq_only, MatchConfig(), keyframes=pending.complete)
    assert found.stage == stage
    assert _top(found.best) == _top(full)
    assert _top(found.best) == (name if name in clips else None)
    assert pending.computed == (stage in ("keyframes", "none"))  # keypoints only when PDQ decided nothing


def test_cascade_pdq_stages_equal_one_pdq_search(library):
    """Direct then mirrored hits, merged, are exactly the hits of one search over every code."""
    clips, stores = library
    query = extract(clips["chelsea"][:, :, ::-1], fps=12.0, config=QUERY)
    direct = np.nonzero(query.pdq.variant == 0)[0]
    others = np.nonzero(query.pdq.variant != 0)[0]
    merged = merge_hits(
        pdq_hits(stores["pdq"], query, MatchConfig(), direct), pdq_hits(stores["pdq"], query, MatchConfig(), others)
    )
    whole = pdq_hits(stores["pdq"], query, MatchConfig())
    assert len(whole) > 0
    for part in ("query", "ids", "distance"):
        assert np.array_equal(getattr(merged, part), getattr(whole, part))
    assert pdq_evidence(stores["pdq"], query, MatchConfig())  # and the full search decides on them


def test_cascade_skips_keyframes_when_their_indexes_are_empty(library):
    _, stores = library
    pdq_only = {"pdq": stores["pdq"], "orb": _Store(), "layout": _Store()}
    pending = extract_pdq_first(_pan("rocket"), fps=12.0, config=QUERY)
    found = cascade_best(pdq_only, pending.pdq_only, MatchConfig(), keyframes=pending.complete)
    assert found.stage == "none" and found.best == {}
    assert not pending.computed


def test_cascade_falls_back_to_keyframes_when_pdq_cannot_decide(library):
    """A hard crop (PDQ misses it) is still found by ORB, on keyframes computed only then."""
    clips, stores = library
    h, w = clips["astronaut"].shape[1:3]
    crop = np.stack(
        [
            cv2.resize(np.ascontiguousarray(f[h // 5 : h - h // 5, w // 5 : w - w // 5]), (w, h))
            for f in clips["astronaut"]
        ]
    )
    pending = extract_pdq_first(crop, fps=12.0, config=QUERY)
    found = cascade_best(stores, pending.pdq_only, MatchConfig(), keyframes=pending.complete)
    full = best_per_work(stores, extract(crop, fps=12.0, config=QUERY), MatchConfig())
    assert _top(found.best) == _top(full)
    if found.stage == "keyframes":
        assert pending.computed and _top(found.best) == "astronaut"
    else:  # PDQ survived this crop after all: then it must be the right clip
        assert found.stage.startswith("pdq") and _top(found.best) == "astronaut"


# ---------------------------------------------------------------- the sampled decoder


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """An H.264 file with B-frames (the writer's defaults), 48 frames at 24 fps."""
    frames = np.concatenate([_pan("astronaut", 24), _pan("coffee", 24)])
    return write_video(tmp_path_factory.mktemp("sampled") / "clip.mp4", frames, fps=24.0, crf=23)


@pytest.mark.parametrize("step", [1, 3, 6])
def test_sampled_reader_without_skipping_equals_read_frames(coded, step):
    plain = list(read_frames(coded, step=step))
    sampled = list(read_sampled(coded, step=step, skip_nonref=False))
    assert len(sampled) == len(plain)
    assert all(np.array_equal(a, b) for a, b in zip(sampled, plain, strict=True))


@pytest.mark.parametrize("step", [1, 3, 5, 6])
def test_sampled_reader_takes_a_reference_frame_at_or_just_after_each_tick(coded, step):
    every = list(read_frames(coded))
    sampled = list(read_sampled(coded, step=step))
    assert len(every) // step - 1 <= len(sampled) <= -(-len(every) // step)
    for tick, frame in enumerate(sampled):
        # Which decoded frame it is: the first at or after the tick, at most a few frames late.
        matches = [i for i, f in enumerate(every) if np.array_equal(f, frame)]
        assert matches, "a sampled frame must be one of the stream's frames"
        late = min(i for i in matches if i >= tick * step) - tick * step
        assert 0 <= late <= 3


def test_sampled_reader_keeps_the_limits(coded, tmp_path):
    with pytest.raises(MediaTooLargeError):
        list(read_sampled(coded, step=6, frame_limit=10))
    with pytest.raises(MediaTooLargeError):
        list(read_sampled(coded, step=6, max_pixels=100))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        list(read_sampled(junk, step=6))
    with pytest.raises(ValueError):
        list(read_sampled(coded, step=0))


def test_sampled_reader_reads_untimed_containers_as_read_frames(tmp_path):
    """AVI timestamps cannot be trusted to order frames: such files are read frame by frame."""
    import av

    path = tmp_path / "clip.avi"
    with av.open(str(path), mode="w", format="avi") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for frame in _pan("astronaut", 24):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    plain = list(read_frames(path, step=5))
    sampled = list(read_sampled(path, step=5))
    assert len(sampled) == len(plain) > 0
    assert all(np.array_equal(a, b) for a, b in zip(sampled, plain, strict=True))
