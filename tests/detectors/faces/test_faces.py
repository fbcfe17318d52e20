"""Face detection and descriptors (dlib), the gallery, frame sampling and multi-frame agreement."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detectors.errors import DetectorError, MediaError
from detectors.faces import (
    DlibEmbedder,
    Face,
    FaceBox,
    FaceError,
    Gallery,
    NoFaceFound,
    SamplingConfig,
    SeveralFaces,
    distance_score,
    model_dir,
    sample_frames,
    scan_frames,
)
from detectors.faces.dlib import MODEL_FILES
from detectors.video_io import read_image
from tests.detectors.faces.conftest import face_photo
from tests.support.clips import pan_across


def test_models_are_found_without_importing_their_package_and_the_68_point_model_is_never_named():
    import sys

    folder = model_dir()
    assert all((folder / name).is_file() for name in MODEL_FILES.values())
    assert not any("68" in name for name in MODEL_FILES.values())
    assert "face_recognition_models" not in sys.modules  # located by find_spec, never imported


def test_errors_sit_under_the_detector_root_with_their_own_exit_codes():
    assert issubclass(NoFaceFound, FaceError) and issubclass(FaceError, DetectorError)
    assert (FaceError.exit_code, NoFaceFound.exit_code, SeveralFaces.exit_code) == (27, 28, 29)


def test_same_person_is_near_and_different_people_are_far(embedder, obama):
    other = embedder.single_face(read_image(face_photo("obama2.jpg"))).descriptor
    biden = embedder.single_face(read_image(face_photo("biden.jpg"))).descriptor
    mine = embedder.single_face(obama).descriptor
    same, different = embedder.distance(mine, np.stack([other, biden]))
    assert mine.shape == (128,) and mine.dtype == np.float32
    assert same < 0.5 < 0.7 < different


def test_boxes_come_back_in_the_callers_coordinates_after_downscaling(embedder):
    big = read_image(face_photo("obama-1080p.jpg"))
    small = read_image(face_photo("obama-720p.jpg"))
    (b1,), (b2,) = embedder.detect(big), embedder.detect(small)
    ratio = big.shape[0] / small.shape[0]
    assert abs(b1.left - b2.left * ratio) < 0.08 * b1.width and abs(b1.width - b2.width * ratio) < 0.15 * b1.width
    assert 0 <= b1.left < b1.right <= big.shape[1] and 0 <= b1.top < b1.bottom <= big.shape[0]


def test_small_frames_are_upsampled_so_small_faces_are_found(embedder, obama):
    image = cv2.resize(obama, (140, 175), interpolation=cv2.INTER_AREA)  # the face is ~45 px
    assert max(image.shape[:2]) < embedder.upsample_below
    (box,) = embedder.detect(image)
    assert box.width < 80  # a face HOG misses without the 2x upsampling
    assert DlibEmbedder(upsample_below=0).detect(image) == []


def test_enrolment_photo_errors_are_typed_and_say_what_to_do(embedder):
    with pytest.raises(SeveralFaces, match="2 faces") as several:
        embedder.single_face(read_image(face_photo("two_people.jpg")))
    assert several.value.count == 2
    with pytest.raises(NoFaceFound, match="no face found"):
        embedder.single_face(np.full((240, 320, 3), 128, np.uint8))
    with pytest.raises(NoFaceFound, match="too small"):
        embedder.single_face(np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(MediaError, match="uint8 RGB"):
        embedder.faces(np.zeros((20, 20), np.float32))


def test_descriptors_never_appear_in_reprs_or_reports(embedder, obama):
    face = embedder.single_face(obama)
    assert "descriptor" not in repr(face) and set(face.to_dict()) == {"box"}


def test_gallery_agrees_with_an_exhaustive_computation():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(7, 128)).astype(np.float32)
    owners = ["a", "a", "b", "c", "c", "c", "d"]
    gallery = Gallery(owners, vectors)
    query = rng.normal(size=128).astype(np.float32)
    expected = {}
    for owner, vec in zip(owners, vectors, strict=True):
        expected[owner] = min(expected.get(owner, np.inf), float(np.linalg.norm(vec - query)))
    got = gallery.nearest(query, k=4)
    assert [c.person_id for c in got] == sorted(expected, key=expected.get)
    assert np.allclose([c.distance for c in got], sorted(expected.values()), atol=1e-5)
    assert Gallery([], np.zeros((0, 128))).nearest(query) == []
    with pytest.raises(FaceError):
        Gallery(["a"], vectors)


def test_distance_score_is_one_half_at_the_threshold():
    assert distance_score(0.0, 0.5) == 1.0 and distance_score(0.5, 0.5) == 0.5 and distance_score(2.0, 0.5) == 0.0


def test_sampling_takes_every_nth_frame_and_each_cut():
    frames = [np.full((36, 64, 3), 20, np.uint8)] * 10 + [np.full((36, 64, 3), 230, np.uint8)] * 10
    taken = [i for i, _ in sample_frames(frames, SamplingConfig(every=8))]
    assert taken == [0, 8, 10, 16]  # 10 is the cut between two strides
    assert [i for i, _ in sample_frames(frames, SamplingConfig(every=8, max_samples=2))] == [0, 8]


def _pan(image: np.ndarray, n: int, size: int = 256) -> list[np.ndarray]:
    side = min(image.shape[:2])
    return list(pan_across(image, frames=n, window=(side, side), size=(size, size)))


def test_a_person_counts_only_when_matched_in_enough_sampled_frames(embedder, obama):
    gallery = Gallery(["obama"], [embedder.single_face(read_image(face_photo("obama2.jpg"))).descriptor])
    clip = _pan(obama, 6)
    config = SamplingConfig(every=2, min_frames=2)
    found = scan_frames(clip, embedder, gallery, config)
    assert found.frames_seen == 6 and found.frames_sampled == 3 and found.required_frames == 2
    assert [p.person_id for p in found.present] == ["obama"] and len(found.present[0].frames) >= 2
    # the face in one sampled frame only: seen, but not present
    blank = np.full_like(clip[0], 90)
    once = [clip[0], blank, blank, blank, blank, blank]
    found = scan_frames(once, embedder, gallery, config)
    assert found.people and not found.present and found.people[0].frames == (0,)
    # a still is one sampled frame: one is enough
    assert scan_frames([clip[0]], embedder, gallery, config).present[0].person_id == "obama"


def test_faces_in_frames_of_nobody_enrolled_match_no_one(embedder):
    gallery = Gallery(["obama"], [embedder.single_face(read_image(face_photo("obama.jpg"))).descriptor])
    biden = read_image(face_photo("biden.jpg"))
    found = scan_frames(_pan(biden, 4), embedder, gallery, SamplingConfig(every=1))
    assert found.faces_found >= 3 and found.present == ()


def test_facebox_geometry():
    box = FaceBox(10, 20, 110, 140, 1.5)
    assert (box.width, box.height, box.size) == (100, 120, 100)
    assert isinstance(Face(box, np.zeros(128, np.float32)).to_dict()["box"], dict)
