"""Fingerprints: the shared example auto-test, Hamming properties, borders, indexes, alignment."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.errors import FingerprintError
from detectors.fingerprints import (
    FINGERPRINTS,
    QUERY,
    REFERENCE,
    BruteForceIndex,
    FlatIndex,
    FrameHits,
    MultiIndexHashing,
    align,
    detect_borders,
    hamming,
    LayoutFingerprint,
    extract,
    hamming_matrix,
    load_index,
    remove_borders,
)
from tests.support.fingerprint_examples import examples_for, still
from detectors.fingerprints.pdq import MIRROR, PdqFingerprint

codes32 = st.binary(min_size=32, max_size=32).map(lambda b: np.frombuffer(b, np.uint8))


@pytest.mark.parametrize("fingerprint", FINGERPRINTS, ids=lambda f: f.name)
def test_examples(fingerprint):
    """Every fingerprint matches its transformed examples and rejects different pictures."""
    fp = fingerprint()
    for example in examples_for(fp.name):
        assert fp.frames_match(example.original, example.candidate) == example.should_match, example.label


@given(codes32, codes32, codes32)
def test_hamming_is_a_metric(a, b, c):
    """Hamming distance is symmetric, zero on itself and obeys the triangle inequality."""
    assert hamming(a, a) == 0
    assert hamming(a, b) == hamming(b, a)
    assert hamming(a, c) <= hamming(a, b) + hamming(b, c)


@given(codes32, st.sets(st.integers(0, 255), max_size=64))
def test_hamming_counts_flipped_bits(a, flips):
    """Flipping k distinct bits moves a code exactly k away."""
    bits = np.unpackbits(a)
    bits[list(flips)] ^= 1
    assert hamming(a, np.packbits(bits)) == len(flips)


def test_hamming_matrix_matches_pairwise():
    rng = np.random.default_rng(1)
    q, r = rng.integers(0, 256, (5, 32), np.uint8), rng.integers(0, 256, (7, 32), np.uint8)
    d = hamming_matrix(q, r)
    assert d.shape == (5, 7) and all(d[i, j] == hamming(q[i], r[j]) for i in range(5) for j in range(7))
    with pytest.raises(FingerprintError, match="do not match"):
        hamming_matrix(q, r[:, :8])


def test_pdq_mirror_variant_matches_flipped_frame():
    frame = still("astronaut")
    ref = PdqFingerprint().hash_frame(frame).codes[0]
    flipped = PdqFingerprint(variants=(0, MIRROR)).hash_frame(np.ascontiguousarray(frame[:, ::-1]))
    assert hamming(flipped.codes[0], ref) > 60 and hamming(flipped.codes[1], ref) <= 31


@pytest.mark.parametrize("bars", ["letterbox", "pillarbox", "both"])
def test_borders_are_found_and_removed(bars):
    frame = still("coffee", (320, 180))
    out = np.full((240, 400, 3), 12, np.uint8)
    top, left = (30, 40) if bars == "both" else ((30, 40) if bars == "letterbox" else (30, 40))
    if bars == "letterbox":
        out = np.full((240, 320, 3), 12, np.uint8); top, left = 30, 0
    elif bars == "pillarbox":
        out = np.full((180, 400, 3), 12, np.uint8); top, left = 0, 40
    out[top:top + 180, left:left + 320] = frame
    box = detect_borders(out)
    assert box.has_border
    assert abs(box.top - top) <= 1 and abs(box.left - left) <= 1
    assert remove_borders(out).shape[:2] in {(180, 320), (179, 320), (180, 319), (178, 320), (180, 318)}


def test_no_border_on_plain_or_dark_frames():
    assert not detect_borders(still("astronaut")).has_border
    assert not detect_borders(np.zeros((90, 160, 3), np.uint8)).has_border


def _random_codes(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32), np.uint8)


def _near(codes, k, seed=1):
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        row[rng.choice(256, k, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


@pytest.mark.parametrize("scaled", [FlatIndex, MultiIndexHashing], ids=["flat", "mih"])
def test_scaled_index_equals_brute_force(scaled):
    """The scaled indexes return exactly the reference matcher's hits."""
    refs = _random_codes(3000)
    queries = np.concatenate([_near(refs[:40], 20), _near(refs[40:60], 31), _random_codes(20, 9)])
    brute, fast = BruteForceIndex(), scaled()
    ids = np.arange(len(refs)) * 7
    brute.add(refs, ids)
    fast.add(refs, ids)
    a, b = brute.search(queries, 31), fast.search(queries, 31)
    assert len(a) >= 60
    assert sorted(zip(a.query, a.ids, a.distance)) == sorted(zip(b.query, b.ids, b.distance))
    brute.remove(ids[:10]); fast.remove(ids[:10])
    a, b = brute.search(queries, 31), fast.search(queries, 31)
    assert sorted(zip(a.query, a.ids)) == sorted(zip(b.query, b.ids))


def test_mih_refuses_radius_beyond_exactness():
    index = MultiIndexHashing()
    index.add(_random_codes(10), np.arange(10))
    with pytest.raises(FingerprintError, match="exact radius"):
        index.search(_random_codes(1), 40)


def test_index_save_load_and_corruption(tmp_path):
    index = FlatIndex()
    index.add(_random_codes(50), np.arange(50))
    path = index.save(tmp_path / "i.npz", meta={"sets": [1]})
    loaded, meta = load_index(path)
    assert meta == {"sets": [1]} and len(loaded) == 50
    assert np.array_equal(loaded.search(index.codes[:3], 0).ids, [0, 1, 2])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FingerprintError):
        load_index(path)
    path.write_bytes(b"")
    with pytest.raises(FingerprintError):
        load_index(path)


def test_align_recovers_speed_and_drops_strays():
    q = np.arange(0, 8, 0.5)
    ref = 10 + 1.25 * q
    qf = np.arange(len(q))
    hits = FrameHits(np.append(qf, [3, 5]), np.append(q, [1.5, 2.5]), np.append(ref, [90.0, 3.0]),
                     np.append(ref + 0.1, [90.1, 3.1]), np.ones(len(q) + 2))
    al = align(hits)
    assert al.speed == 1.25 and len(al.query_frames) == len(q)
    assert abs(al.ref_start - 10) < 0.6 and abs(al.ref_end - ref[-1]) < 0.6


def test_align_still_reference():
    hits = FrameHits(np.arange(4), np.arange(4.0), np.zeros(4), np.zeros(4), np.full(4, 0.9))
    al = align(hits, still=True)
    assert len(al.query_frames) == 4 and al.ref_start == al.ref_end == 0.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), layout=st.sampled_from([(16, 1), (32, 0), (32, 1), (16, 2), (32, 2)]),
       n=st.integers(1, 400), duplicates=st.booleans())
def test_mih_layouts_equal_brute_force(seed, layout, n, duplicates):
    """Every table layout and flip count returns the reference hits up to its exact radius."""
    tables, flips = layout
    rng = np.random.default_rng(seed)
    refs = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    if duplicates:  # runs of identical codes share every bucket
        refs[n // 2:] = refs[0]
    radius = tables * (flips + 1) - 1
    queries = np.concatenate([_near(refs[: min(n, 8)], min(radius, 40) // 2, seed=seed % 1000),
                              rng.integers(0, 256, (3, 32), dtype=np.uint8)])
    brute, mih = BruteForceIndex(), MultiIndexHashing(tables=tables, flips=flips)
    brute.add(refs, np.arange(n)); mih.add(refs, np.arange(n))
    a, b = brute.search(queries, radius), mih.search(queries, radius)
    assert sorted(zip(a.query, a.ids, a.distance)) == sorted(zip(b.query, b.ids, b.distance))


def _smooth_field(seed: int, size=(320, 180)) -> np.ndarray:
    """A random smooth colour field: a few low-frequency waves per channel (no corners)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / w
    channels = []
    for _ in range(3):
        f = sum(a * np.cos(2 * np.pi * (fx * xx + fy * yy) + p) for a, fx, fy, p in
                zip(rng.uniform(20, 60, 3), rng.uniform(0.2, 1.2, 3), rng.uniform(0.2, 1.2, 3), rng.uniform(0, 6.3, 3)))
        channels.append(128 + f)
    return np.clip(np.stack(channels, axis=2), 0, 255).astype(np.uint8)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), keep=st.floats(0.65, 1.0), dx=st.floats(0, 1), dy=st.floats(0, 1),
       mirror=st.booleans())
def test_layout_matches_any_crop_of_a_smooth_frame(seed, keep, dx, dy, mirror):
    """Crops between the searched scales, at any offset, mirrored or not, stay above threshold."""
    fp = LayoutFingerprint()
    frame = _smooth_field(seed)
    h, w = frame.shape[:2]
    ch, cw = int(h * keep), int(w * keep)
    y, x = int((h - ch) * dy), int((w - cw) * dx)
    crop = cv2.resize(frame[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_AREA)
    if mirror:
        crop = np.ascontiguousarray(crop[:, ::-1])
    assert fp.similarity(fp.hash_frame(crop), fp.hash_frame(frame)) >= fp.threshold


def test_layout_skips_flat_frames_and_keeps_aspect():
    fp = LayoutFingerprint()
    assert len(fp.hash_frame(np.full((90, 160, 3), 40, np.uint8))) == 0  # black/flat: no layout
    codes = fp.hash_frame(_smooth_field(1, (400, 100)))
    assert codes.codes.shape == (1, fp.nbytes) and abs(codes.points[0, 0] - 4.0) < 1e-6
    assert LayoutFingerprint.thumb(codes).pixels.shape == (16, 64)


def test_extract_gives_layout_only_to_flat_reference_keyframes():
    """References: layout rows for keyframes ORB cannot describe; queries: for every keyframe."""
    smooth = np.stack([_smooth_field(3)] * 20)
    textured = np.stack([still("astronaut", (320, 180))] * 20)
    flat_ref = extract(smooth, fps=10, config=REFERENCE)
    # A repeated frame is one keyframe standing for the whole clip.
    assert len(flat_ref.layout) == 1 and flat_ref.layout_times.tolist() == [[0.0, 2.0]]
    assert len(extract(textured, fps=10, config=REFERENCE).layout) == 0
    query = extract(textured, fps=10, config=QUERY)
    assert len(query.layout) == query.orb_frames == 1


def test_layout_colour_vetoes_same_light_and_shade_in_other_hues():
    """Opposite chroma over identical luma is another picture; a grey copy has no colour to
    disagree with, so luma decides alone."""
    fp = LayoutFingerprint()
    wheel = still("colorwheel")
    ycc = cv2.cvtColor(wheel, cv2.COLOR_RGB2YCrCb)
    ycc[:, :, 1:] = 255 - ycc[:, :, 1:]
    inverted = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    grey = np.repeat(cv2.cvtColor(wheel, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    assert not fp.frames_match(wheel, inverted)
    assert fp.frames_match(wheel, grey)
