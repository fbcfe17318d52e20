"""The same registry on PostgreSQL (REELGUARD_TEST_PG_URL; required when CI is set)."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.governance.records.test_registry import FPS, make_registry, pan_clip

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url():
    url = os.environ.get("REELGUARD_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but REELGUARD_TEST_PG_URL is not: the PostgreSQL tests must run in CI")
        pytest.skip("REELGUARD_TEST_PG_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"reelguard_registry_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: skip, or fail under CI
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} unreachable: {exc}")
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    from governance.records.storage.db import get_engine

    get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_registry_on_postgres(tmp_path, pg_url):
    reg = make_registry(tmp_path, pg_url)
    assert reg.match_frames(pan_clip("coffee"), fps=FPS) == []
    work = reg.add_path(_write(tmp_path, "coffee"), owner="Studio", title="Coffee")
    assert reg.add_path(_write(tmp_path, "coffee"), owner="Studio", title="Coffee").duplicate
    matches = reg.match_frames(pan_clip("coffee"), fps=FPS)
    assert [m.work_id for m in matches] == [work.work_id]
    assert reg.match_frames(pan_clip("rocket"), fps=FPS) == []
    reg.remove(work.work_id)
    assert reg.match_frames(pan_clip("coffee"), fps=FPS) == [] and reg.list_works() == []


def _write(tmp_path, name):
    from detectors.video_io import write_video

    path = tmp_path / f"{name}.mp4"
    if not path.exists():
        write_video(path, pan_clip(name), fps=FPS, preset="ultrafast")
    return path
