"""``POST /api/generate/reference``: multipart reference upload, checks before queueing, the job
generates with it, and the clip's manifest cites it."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import C2PA_SAMPLES, require_shared
from tests.support.api import make_api
from tests.governance.flows.test_references import _huge_png, _png, _sha, _sign_png, _tdm

SAFE = "a red circle moving right on a blue background"
FORM = {"prompt": SAFE, "num_frames": "16", "width": "256", "height": "256", "steps": "4"}


def _post(api, path, *, form=None, role="generator", name=None, kind=None):
    data = dict(FORM if form is None else form)
    if kind:
        data["kind"] = kind
    with open(path, "rb") as handle:
        return api.client.post("/api/generate/reference", data=data, files={"file": (name or path.name, handle)},
                               headers=api.h(role))


def _wait(api, job_id, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.client.get(f"/api/jobs/{job_id}", headers=api.h("generator")).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.5)
    pytest.fail(f"job {job_id} did not finish in {timeout} s")


def test_reference_job_generates_and_cites_the_reference(home, tmp_path):
    from detectors.provenance import read_provenance

    api = make_api(home, generate_in_process=True)
    ref = _png(tmp_path / "start.png")
    r = _post(api, ref, form={**FORM, "strength": "0.5"})
    assert r.status_code == 202, r.text
    job = _wait(api, r.json()["job_id"])
    assert job["status"] == "done", job
    assert job["result"]["references"][0]["sha256"] == _sha(ref)
    assert job["result"]["model"]["task"] == "image-to-video"
    clip = api.client.get(f"/api/jobs/{job['job_id']}/clip", headers=api.h("generator"))
    assert clip.status_code == 200
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    (ingredient,) = read_provenance(tmp_path / "clip.mp4", trust=api.ctx.trust).ingredients
    assert (ingredient.relationship, ingredient.sha256) == ("inputTo", _sha(ref))
    # the job records a name, never a server path
    assert job["request"]["reference_file"] == f"{_sha(ref)}.png" and "/" not in job["request"]["reference_file"]


def test_forbidden_reference_is_refused_before_queueing(home, tmp_path):
    from governance.core.settings import get_settings
    from governance.provenance.keys import load_or_create_identity

    api = make_api(home, generate_in_process=True)
    identity = load_or_create_identity(get_settings(home=home))
    ref = _sign_png(identity, _png(tmp_path / "raw.png"), tmp_path / "no-ai.png",
                    [_tdm("cawg.training-mining", ai_generative_training="notAllowed")])
    r = _post(api, ref)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "reference-refused" and "cawg.ai_generative_training" in r.text
    assert str(tmp_path) not in r.text and str(home) not in r.text  # no server paths


@pytest.mark.parametrize(
    ("make", "kind", "status", "code"),
    [
        (lambda d: shutil.copy(C2PA_SAMPLES / "c2pa-rs__video1_no_manifest.mp4", d / "v.mp4"), "image", 422, "bad-reference"),
        (lambda d: _huge_png(d / "huge.png"), None, 413, "media-too-large"),
        (lambda d: (d / "t.txt").write_text("not media") and d / "t.txt", None, 415, "unsupported-media-type"),
        (lambda d: (d / "cut.png").write_bytes(_png(d / "f.png").read_bytes()[:60]) and d / "cut.png", None, 422,
         "unreadable-media"),
    ],
    ids=["video-as-image", "huge-declared", "not-media", "corrupt"],
)
def test_bad_reference_uploads_are_clear_errors_and_queue_nothing(home, tmp_path, make, kind, status, code):
    from sqlmodel import select

    from governance.records.jobs import Job
    from governance.records.storage.db import session_scope

    require_shared(C2PA_SAMPLES)
    api = make_api(home, generate_in_process=True)
    r = _post(api, make(tmp_path), kind=kind)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    with session_scope(api.ctx.engine) as session:
        assert session.exec(select(Job)).all() == []
    assert list((api.settings.uploads_path).glob("*.png")) == []  # the upload itself is gone


def test_bad_fields_and_roles(home, tmp_path):
    api = make_api(home, generate_in_process=True)
    ref = _png(tmp_path / "p.png")
    assert _post(api, ref, form={**FORM, "width": "100"}).status_code == 422  # not a multiple of 16
    assert _post(api, ref, form={**FORM, "bogus": "1"}).json()["error"]["code"] == "invalid-request"
    assert _post(api, ref, kind="audio").status_code == 422
    assert _post(api, ref, role="verifier").status_code == 403


def test_stored_references_are_pruned_once_no_job_can_use_them(home, tmp_path):
    import os

    from governance.core.settings import get_settings
    from governance.flows.references import KEEP_STORED_S, load_reference, store_reference, stored_reference

    settings = get_settings(home=home)
    first = store_reference(settings, load_reference(_png(tmp_path / "a.png"), "image", settings))
    path = stored_reference(settings, first)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    stale = path.stat().st_mtime - KEEP_STORED_S - 60
    os.utime(path, (stale, stale))
    store_reference(settings, load_reference(_png(tmp_path / "b.png", colour=(1, 2, 3)), "image", settings))
    assert not path.exists()  # past every job's expiry
    with pytest.raises(Exception, match="is gone"):
        stored_reference(settings, first)
    with pytest.raises(Exception, match="not a stored reference name"):
        stored_reference(settings, "../../keys/signer.key")


def test_the_route_accepts_exactly_the_reference_kinds_the_flow_knows():
    """The route keeps its own copy of the kinds (the flows load lazily): it must stay in step."""
    from typing import get_args

    from governance.flows.references import ReferenceKind
    from governance.service.api.routes import generate as route

    assert get_args(route.ReferenceKind) == get_args(ReferenceKind)
    assert set(route._KINDS) == set(get_args(ReferenceKind))
    assert all(key == value for key, value in route._KINDS.items())
