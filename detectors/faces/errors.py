"""Errors of the face package (all under ``detectors.DetectorError``).

DetectorError
├── MediaError              (detectors.errors) unreadable / corrupt photo, a video given as one
│   └── MediaTooLargeError  declared dimensions over the limit, refused before decoding
└── FaceError               the face models are missing or failed                    exit 27
    ├── NoFaceFound         a photo with no usable face (or too small to hold one)   exit 28
    └── SeveralFaces        an enrolment photo with more than one face                exit 29
"""

from __future__ import annotations

from detectors.errors import DetectorError

__all__ = ["FaceError", "NoFaceFound", "SeveralFaces"]


class FaceError(DetectorError):
    """The face models cannot be loaded or a face could not be described."""

    exit_code = 27


class NoFaceFound(FaceError):
    """No face the detector can use: the photo shows none, or it is too small or too blurred."""

    exit_code = 28


class SeveralFaces(FaceError):
    """An enrolment photo shows more than one face, so it cannot say whose face to enrol."""

    exit_code = 29

    def __init__(self, message: str, *, count: int) -> None:
        super().__init__(message)
        self.count = count
