"""Engines built once per session: lexical only (fast), with the multilingual semantic matcher
(the default), and with the English MiniLM matcher (the earlier model, still selectable)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from policies import PolicyEngine

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def lexical() -> PolicyEngine:
    engine = PolicyEngine.load(semantic=False)
    engine.warm_up()
    return engine


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One folder per test session for the exported ONNX graph (built once, ~15 s)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def semantic() -> PolicyEngine:
    """The shipped engine: USE-multilingual, loaded from its wheel (~4 s with the exemplars)."""
    engine = PolicyEngine.load(semantic=True)
    engine.warm_up()
    return engine


@pytest.fixture(scope="session")
def minilm(model_cache) -> PolicyEngine:
    engine = PolicyEngine.load(semantic=True, model_cache=model_cache, semantic_model="minilm")
    engine.warm_up()
    return engine


class FakeConsent:
    """An in-memory ``ConsentLookup``: person id -> (licence id, scope)."""

    def __init__(self, licences: dict[str, tuple[str, str]]) -> None:
        self.licences = licences
        self.calls: list[tuple[str, str, datetime]] = []

    def find_license(self, person_id: str, *, scope: str, at: datetime) -> str | None:
        self.calls.append((person_id, scope, at))
        found = self.licences.get(person_id)
        return found[0] if found and found[1] == scope else None


def read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
