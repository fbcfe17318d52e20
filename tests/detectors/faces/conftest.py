"""Real faces from ../shared/faces (skipped locally without it, required in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED, require_shared

FACES = SHARED / "faces"
FR = FACES / "photos" / "face_recognition"


def face_photo(name: str) -> Path:
    return require_shared(FR / name)


@pytest.fixture(scope="session")
def embedder():
    from detectors.faces import DlibEmbedder

    return DlibEmbedder()


@pytest.fixture(scope="session")
def obama():
    from detectors.video_io import read_image

    return read_image(face_photo("obama.jpg"))
