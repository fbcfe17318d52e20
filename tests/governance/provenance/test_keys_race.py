"""One key per home, whatever the concurrency: processes released at once on a fresh home."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from governance.core.secrets import create_secret_file, watermark_key
from governance.core.settings import get_settings

PROCESSES = 8
ROUNDS = 4


def _race(home: str, barrier, results, what: str) -> None:
    settings = get_settings(home=Path(home))
    barrier.wait()
    if what == "watermark":
        results.put(watermark_key(settings).hex())
    else:
        from governance.provenance.keys import load_or_create_identity

        results.put(load_or_create_identity(settings).fingerprint)


def _start_together(home: Path, what: str, processes: int = PROCESSES) -> list[str]:
    mp = multiprocessing.get_context("fork")  # cheap starts, so they really overlap
    barrier, results = mp.Barrier(processes), mp.Queue()
    procs = [mp.Process(target=_race, args=(str(home), barrier, results, what)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return got


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_first_use_gets_one_watermark_key(tmp_path, round_):
    home = tmp_path / "home"
    keys = _start_together(home, "watermark")
    assert len(keys) == PROCESSES and len(set(keys)) == 1, keys
    assert watermark_key(get_settings(home=home)).hex() == keys[0]  # and it is the one on disk
    path = home / "keys" / "watermark.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700
    assert [p.name for p in (home / "keys").iterdir() if p.name.endswith(".tmp")] == []  # no temp left


def test_concurrent_first_use_gets_one_signing_identity(tmp_path):
    fingerprints = _start_together(tmp_path / "home", "identity", processes=6)
    assert len(set(fingerprints)) == 1, fingerprints


def test_create_secret_file_never_replaces(tmp_path):
    path = tmp_path / "keys" / "secret"
    assert create_secret_file(path, b"first")
    assert not create_secret_file(path, b"second")
    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["secret"]


def test_flow_context_makes_the_home_private(tmp_path):
    from governance.flows import FlowContext

    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    FlowContext(get_settings(home=home), semantic_policy=False)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_create_secret_file_without_hard_links(tmp_path, monkeypatch):
    """File systems without hard links fall back to an flock; still one winner."""
    def no_link(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    path = tmp_path / "keys" / "secret"
    assert create_secret_file(path, b"first")
    assert not create_secret_file(path, b"second")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
