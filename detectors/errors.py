"""Errors raised by the detectors package (video I/O, watermarks, fingerprints, provenance).

DetectorError
├── MediaError              unreadable, truncated, corrupt or unsupported media
│   └── MediaTooLargeError  dimensions or duration beyond the configured limits
├── WatermarkError          bad payload, key, frames too small for the scheme
├── FingerprintError        fingerprinting or index failures
└── ProvenanceError         C2PA reading failures other than "no manifest"
"""

from __future__ import annotations

__all__ = [
    "DetectorError",
    "MediaError",
    "MediaTooLargeError",
    "WatermarkError",
    "FingerprintError",
    "ProvenanceError",
]


class DetectorError(Exception):
    """Root of every error the detectors package raises."""

    exit_code = 20


class MediaError(DetectorError):
    exit_code = 21


class MediaTooLargeError(MediaError):
    exit_code = 22


class WatermarkError(DetectorError):
    exit_code = 23


class FingerprintError(DetectorError):
    exit_code = 24


class ProvenanceError(DetectorError):
    exit_code = 25
