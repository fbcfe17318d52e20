"""The registry benchmark's baselines decide by the rules they claim: vPDQ's shipped rule, and
production's alignment + ``MatchConfig`` (min_frames 2, min_coverage 0.25) for PDQ and pHash."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from registry.baselines import AlignedBaseline, Vpdq, VpdqHash, VpdqRule, phash_codes, vpdq_compare  # noqa: E402
from registry.data import load_split  # noqa: E402

from detectors.fingerprints.base import FrameCodes  # noqa: E402
from detectors.fingerprints.extract import QUERY, REFERENCE  # noqa: E402
from detectors.fingerprints.pdq import MIRROR  # noqa: E402

RNG = np.random.default_rng(5)


def _codes(n: int, nbytes: int = 32) -> np.ndarray:
    return RNG.integers(0, 256, (n, nbytes), np.uint8)


def _near(codes: np.ndarray, bits: int) -> np.ndarray:
    """``codes`` with the first ``bits`` bits of each row flipped."""
    flipped = np.unpackbits(codes, axis=1)
    flipped[:, :bits] ^= 1
    return np.packbits(flipped, axis=1)


def _bag(codes: np.ndarray, quality: int = 100) -> VpdqHash:
    return VpdqHash(codes, np.full(len(codes), quality, np.int16))


def test_vpdq_counts_shares_of_distinct_hashes_both_ways():
    work = _codes(10)
    query = np.concatenate([_near(work[:2], 20), _near(work[:2], 20), _codes(2)])  # 2 distinct matches + 2 strangers
    score = vpdq_compare(_bag(query), _bag(work))
    assert score.query_percent == pytest.approx(50.0)  # duplicates count once: 2 of 4 distinct query hashes
    assert score.compared_percent == pytest.approx(20.0)  # 2 of the work's 10
    assert not score.matched(VpdqRule())


def test_vpdq_matches_on_the_larger_share_at_80_percent():
    work = _codes(20)
    excerpt = _near(work[:4], 31)  # a short excerpt: every query hash within 31 bits, 4 of 20 work hashes
    score = vpdq_compare(_bag(excerpt), _bag(work))
    assert (score.query_percent, score.compared_percent) == (100.0, 20.0)
    assert score.matched(VpdqRule())
    assert not vpdq_compare(_bag(_near(work[:4], 32)), _bag(work)).matched(VpdqRule())  # 32 bits: too far


def test_vpdq_never_compares_hashes_below_quality_50():
    work = _codes(5)
    assert vpdq_compare(_bag(work, quality=49), _bag(work)).percent == 0.0
    assert vpdq_compare(_bag(work, quality=50), _bag(work)).percent == 100.0


def test_vpdq_with_mirror_scores_the_better_bag():
    # Shapes, not noise: noise has near-zero low-frequency DCT terms, whose PDQ bits are unstable.
    frame = np.zeros((360, 640, 3), np.uint8)
    cv2.circle(frame, (150, 120), 70, (255, 200, 40), -1)
    cv2.rectangle(frame, (380, 200), (560, 330), (40, 90, 255), -1)
    flipped = np.ascontiguousarray(frame[:, ::-1])
    plain, mirrored = Vpdq("v", strip_borders=False, mirror=False), Vpdq("m", strip_borders=False, mirror=True)
    for method in (plain, mirrored):
        method.add("work", [frame, frame])
    assert "work" not in plain.decide([flipped]).decided
    assert "work" in mirrored.decide([flipped]).decided


def _aligned(work_codes: np.ndarray, keyframes: int) -> AlignedBaseline:
    store = AlignedBaseline("pdq", bits=256, radius=31)
    frames = np.arange(keyframes, dtype=np.int32)
    codes = FrameCodes("pdq", work_codes, frames, np.zeros(keyframes, np.int16), np.full(keyframes, 100, np.int16))
    store.add("work", codes, np.stack([frames, frames + 1], 1).astype(np.float32))
    return store


def _query(codes: np.ndarray) -> tuple[FrameCodes, np.ndarray]:
    n = len(codes)
    frames = np.arange(n, dtype=np.int32)
    return (FrameCodes("pdq", codes, frames, np.zeros(n, np.int16), np.full(n, 100, np.int16)),
            np.stack([frames, frames + 1], 1).astype(np.float32))  # fmt: skip


def test_aligned_baseline_decides_with_production_coverage_and_frames():
    work = _codes(12)
    store = _aligned(work, 12)
    copy = store.decide(*_query(_near(work[3:9], 10)))  # 6 s excerpt, every keyframe within 10 bits
    assert copy.decided == {"work"} and copy.score["work"] == pytest.approx(1.0)
    one_of_six = store.decide(*_query(np.concatenate([_near(work[3:4], 10), _codes(5)])))
    assert not one_of_six.decided  # coverage 1/6 < 0.25 ...
    assert one_of_six.score["work"] == pytest.approx(1 / 6)  # ... but the permissive score sees it
    one_of_two = store.decide(*_query(np.concatenate([_near(work[3:4], 10), _codes(1)])))
    assert one_of_two.score["work"] == pytest.approx(0.5)
    assert not one_of_two.decided  # coverage 0.5, yet a single agreeing keyframe (< min_frames 2)


def test_phash_codes_follow_production_sampling_and_mirror():
    still = np.zeros((360, 640, 3), np.uint8)  # a picture whose mirror differs
    cv2.circle(still, (150, 120), 70, (255, 200, 40), -1)
    cv2.rectangle(still, (380, 200), (560, 330), (40, 90, 255), -1)
    frames = [still] * 16
    ref, ref_times = phash_codes(frames, 8.0, REFERENCE)
    assert len(ref) == 1 and ref_times.tolist() == [[0.0, 2.0]]  # repeats extend the one kept row
    query, _ = phash_codes(frames, 8.0, QUERY)
    assert sorted(query.variant.tolist()) == [0, MIRROR]  # the query adds the mirrored frame
    assert (query.codes[0] != query.codes[1]).any()


def test_dev_and_heldout_splits_are_disjoint_and_named():
    dev, heldout = load_split("dev"), load_split("heldout")
    assert (dev.name, heldout.name) == ("dev", "heldout")
    assert not set(dev.works) & set(heldout.works)
    assert set(dev.quick) <= set(dev.works) and set(heldout.quick) <= set(heldout.works)
    with pytest.raises(ValueError, match="split must be one of"):
        load_split("test")
