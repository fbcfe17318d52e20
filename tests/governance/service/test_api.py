"""The HTTP API: every route × every role, bad uploads, rights-holder scoping, clear errors."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from tests.support.api import OWNER, ROLES, make_api, panning_clip

ALL = set(ROLES)
V, G, R, A = {"verifier", "admin"}, {"generator", "admin"}, {"rights-holder", "admin"}, {"auditor", "admin"}
HEX32 = "0" * 32

# (method, path) -> roles allowed. Reviewed by hand: a new route must be added here to pass.
MATRIX = {
    ("GET", "/api/me"): ALL,
    ("POST", "/api/verify"): V,
    ("POST", "/api/generate"): G,
    ("POST", "/api/generate/reference"): G,  # issue 18: generation from a reference image or clip
    ("GET", "/api/jobs/{job_id}"): G,
    ("GET", "/api/jobs/{job_id}/clip"): G,
    ("POST", "/api/policy/check"): G,
    ("GET", "/api/registry/works"): R,
    ("POST", "/api/registry/works"): R,
    ("DELETE", "/api/registry/works/{work_id}"): R,
    ("POST", "/api/registry/match"): R,
    ("POST", "/api/consent"): R,
    ("GET", "/api/consent"): R,
    ("POST", "/api/consent/{license_id}/revoke"): R,
    ("GET", "/api/audit/events"): A,
    ("GET", "/api/audit/events/{event_id}"): A,
    ("GET", "/api/audit/proof/{event_id}"): A,
    ("GET", "/api/audit/consistency"): A,
    ("GET", "/api/audit/checkpoints"): A,
    ("GET", "/api/audit/verify"): A,
    ("GET", "/api/audit/stats"): A,
    ("GET", "/api/audit/report"): A,
    ("POST", "/api/audit/checkpoints"): {"admin"},
    ("GET", "/api/keys"): {"admin"},
    ("POST", "/api/keys"): {"admin"},
    ("DELETE", "/api/keys/{key_id}"): {"admin"},
    ("GET", "/sbr/v1/services/supportedAlgorithms"): V,
    ("GET", "/sbr/v1/matches/byBinding"): V,
    ("POST", "/sbr/v1/matches/byBinding"): V,
    ("POST", "/sbr/v1/matches/byContent"): V,
    ("GET", "/sbr/v1/manifests/{manifestId}"): V,
}
PARAMS = {"job_id": HEX32, "work_id": HEX32, "event_id": HEX32, "license_id": "lic-1", "key_id": "0" * 12,
          "manifestId": "urn:c2pa:x"}


@pytest.fixture
def api(home):
    return make_api(home)


def _routes(app):
    for path, item in app.openapi()["paths"].items():
        for method in item:
            if path.startswith(("/api/", "/sbr/")):
                yield method.upper(), path


def test_every_route_is_in_the_matrix(api):
    assert set(_routes(api.app)) == set(MATRIX)


@pytest.mark.parametrize("role", [*ROLES, None, "revoked", "garbage"])
def test_authorisation_matrix(api, role):
    """Each role × each route: forbidden ones get 403, no key or a bad/revoked key 401."""
    headers = {}
    if role == "revoked":
        token = api.tokens["verifier"]
        admin = api.h("admin")
        assert api.client.delete(f"/api/keys/{token.split('_')[1]}", headers=admin).status_code == 200
        headers = {"X-API-Key": token}
    elif role == "garbage":
        headers = {"X-API-Key": "rg_nothex_" + "x" * 43}
    elif role:
        headers = api.h(role)
    for (method, template), allowed in MATRIX.items():
        path = template.format(**{k: v for k, v in PARAMS.items() if "{" + k + "}" in template})
        response = api.client.request(method, path, headers=headers)
        where = f"{role} {method} {path}: {response.status_code} {response.text[:200]}"
        assert response.status_code < 500 or response.status_code == 503, where
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if role in (None, "revoked", "garbage"):
            assert response.status_code == 401, where
            assert body["error"]["code"] in {"missing-key", "invalid-key"}
        elif role in allowed:
            assert response.status_code not in (401, 403), where
        else:
            assert response.status_code == 403, where
            assert body["error"]["code"] == "forbidden" and body["error"]["request_id"]


def test_openapi_schema_and_page_are_published(api):
    schema = api.client.get("/openapi.json").json()
    assert "/api/verify" in schema["paths"]
    body = schema["paths"]["/api/verify"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    assert any(s.get("name") == "X-API-Key" for s in schema["components"]["securitySchemes"].values())
    page = api.client.get("/")
    assert page.status_code == 200 and "Drop a file" in page.text
    assert api.client.get("/static/app.js").status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # nothing loaded from elsewhere


def test_verify_returns_verdict_proof_and_logs_once(api, tmp_path, caplog):
    from governance.records.audit.log import InclusionProof
    from governance.records.audit.models import AuditEntry
    from governance.records.storage.db import session_scope

    clip = panning_clip(tmp_path / "c.mp4", frames=24)
    caplog.set_level(logging.INFO, logger="reelguard.api")
    with open(clip, "rb") as fh:
        response = api.client.post("/api/verify", files={"file": ("renamed.txt", fh, "video/mp4")},
                                   headers={**api.h("verifier"), "X-Request-ID": "test-rid-1"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["verdict"] == "unknown" and report["media_type"] == "video/mp4"
    assert response.headers["X-Request-ID"] == "test-rid-1"
    proof = report["audit_proof"]
    assert InclusionProof(proof["event_id"], proof["leaf_index"], proof["tree_size"], proof["leaf_hash"],
                          proof["root"], tuple(proof["path"])).verify()
    with session_scope(api.ctx.engine) as session:
        kinds = [e.kind for e in session.exec(select(AuditEntry))]
    assert kinds == ["verification"]
    assert list(api.settings.uploads_path.iterdir()) == []  # nothing left behind
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "rid=test-rid-1" in logged and "/api/verify -> 200" in logged
    assert api.tokens["verifier"].split("_", 2)[2] not in logged  # no secrets in logs (the secret may hold "_")


@pytest.mark.parametrize(
    "name,data,ctype,status,code",
    [
        ("text", b"just some text, not a video" * 10, "video/mp4", 415, "unsupported-media-type"),
        ("html-declared", None, "text/html", 415, "unsupported-media-type"),
        ("truncated", "truncate", "video/mp4", 422, "unreadable-media"),
        ("empty", b"", "video/mp4", 422, "empty-file"),
        ("too-big", "big", "video/mp4", 413, "too-large"),
    ],
)
def test_bad_uploads_are_refused_clearly(home, tmp_path, name, data, ctype, status, code):
    api = make_api(home, max_upload_bytes=60_000)
    clip = panning_clip(tmp_path / "c.mp4", frames=12, size=(160, 96)).read_bytes()
    if data is None:
        data = clip
    elif data == "truncate":
        data = clip[: len(clip) // 3]
    elif data == "big":
        data = clip + b"\0" * 70_000
    response = api.client.post("/api/verify", files={"file": ("x.mp4", data, ctype)}, headers=api.h("verifier"))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert str(api.settings.home) not in error["message"]  # no server paths
    assert list(api.settings.uploads_path.iterdir()) == []


def test_request_shape_errors(api):
    h = api.h("verifier")
    assert api.client.post("/api/verify", content=b"{}", headers={**h, "content-type": "application/json"}).status_code == 415
    r = api.client.post("/api/verify", files={"other": ("x.mp4", b"abc", "video/mp4")}, headers=h)
    assert r.status_code == 422 and "file" in r.json()["error"]["message"]
    r = api.client.post("/api/verify", content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc",
                        headers={**h, "content-type": "multipart/form-data; boundary=xyz"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "truncated"
    assert api.client.get("/api/audit/events?limit=0", headers=api.h("auditor")).status_code == 422
    assert api.client.get("/api/jobs/not-a-job", headers=api.h("generator")).status_code == 422
    assert api.client.get(f"/api/jobs/{HEX32}", headers=api.h("generator")).status_code == 404


def test_rights_holders_see_only_their_own_works(api, tmp_path):
    clip = panning_clip(tmp_path / "work.mp4", still="astronaut", frames=48)
    with open(clip, "rb") as fh:
        r = api.client.post("/api/registry/works", files={"file": ("w.mp4", fh, "video/mp4")},
                            data={"title": "Moon Walk", "owner": "ignored for rights holders"},
                            headers=api.h("rights-holder"))
    assert r.status_code == 201, r.text
    work = r.json()
    assert work["owner"] == OWNER and work["assets"] == 1
    mine = api.client.get("/api/registry/works", headers=api.h("rights-holder")).json()
    assert [w["id"] for w in mine] == [work["work_id"]]
    assert api.client.get("/api/registry/works", headers=api.h("other-holder")).json() == []
    assert len(api.client.get("/api/registry/works", headers=api.h("admin")).json()) == 1
    # Matching: the owner sees the match (with a thumbnail); another owner sees nothing.
    for who, expected in (("rights-holder", 1), ("other-holder", 0)):
        with open(clip, "rb") as fh:
            m = api.client.post("/api/registry/match", files={"file": ("q.mp4", fh, "video/mp4")}, headers=api.h(who))
        assert m.status_code == 200, m.text
        assert len(m.json()["matches"]) == expected
        if expected:
            assert m.json()["thumbnails"][0].startswith("data:image/jpeg;base64,")
    # The verifier's report names the match; another owner cannot delete the work.
    with open(clip, "rb") as fh:
        v = api.client.post("/api/verify", files={"file": ("q.mp4", fh, "video/mp4")}, headers=api.h("verifier")).json()
    assert "protected-match" in v["flags"] and v["registry"]["matches"][0]["owner"] == OWNER
    assert api.client.delete(f"/api/registry/works/{work['work_id']}", headers=api.h("other-holder")).status_code == 404
    assert api.client.delete(f"/api/registry/works/{work['work_id']}", headers=api.h("rights-holder")).status_code == 200


def test_audit_routes_for_auditors(api, tmp_path):
    clip = panning_clip(tmp_path / "c.mp4", frames=12, size=(160, 96))
    with open(clip, "rb") as fh:
        leaf = api.client.post("/api/verify", files={"file": ("c.mp4", fh, "video/mp4")}, headers=api.h("verifier")).json()
    h = api.h("auditor")
    events = api.client.get("/api/audit/events?kind=verification", headers=h).json()
    assert [e["kind"] for e in events] == ["verification"]
    event_id = events[0]["event_id"]
    assert api.client.get(f"/api/audit/events/{event_id}", headers=h).json()["event"]["verdict"] == leaf["verdict"]
    assert api.client.get(f"/api/audit/proof/{event_id}", headers=h).json()["leaf_index"] == 0
    assert api.client.get(f"/api/audit/proof/{'f' * 32}", headers=h).status_code == 404
    assert api.client.get("/api/audit/consistency?old_size=1", headers=h).status_code == 200
    assert api.client.get("/api/audit/consistency?old_size=9", headers=h).status_code == 404
    stats = api.client.get("/api/audit/stats", headers=h).json()
    assert stats["size"] == 1 and stats["verdicts"] == {"unknown": 1}
    assert api.client.get("/api/audit/verify", headers=h).json()["ok"] is True
    assert api.client.get("/api/audit/checkpoints", headers=h).status_code == 200


def test_api_keys_admin_routes(api):
    h = api.h("admin")
    created = api.client.post("/api/keys", json={"name": "ci", "role": "auditor"}, headers=h)
    assert created.status_code == 201
    token = created.json()["token"]
    assert api.client.get("/api/me", headers={"X-API-Key": token}).json()["role"] == "auditor"
    listed = api.client.get("/api/keys", headers=h).json()
    assert all("token" not in k and "secret_sha256" not in k for k in listed)
    assert api.client.post("/api/keys", json={"name": "x", "role": "rights-holder"}, headers=h).status_code == 422
    assert api.client.delete(f"/api/keys/{'f' * 12}", headers=h).status_code == 404


def test_soft_binding_resolution_routes(api):
    h = api.h("verifier")
    algs = api.client.get("/sbr/v1/services/supportedAlgorithms", headers=h).json()
    assert algs["watermarks"] and "fingerprints" in algs
    assert api.client.get("/sbr/v1/matches/byBinding?alg=x&value=AAECAwQFBgc=", headers=h).json() == {"matches": []}
    assert api.client.get("/sbr/v1/matches/byBinding?alg=x&value=***", headers=h).status_code == 400
    assert api.client.get("/sbr/v1/manifests/urn:c2pa:nothing", headers=h).status_code == 404


def test_database_outage_is_a_503(api, monkeypatch):
    """The engine raising StorageError (as get_engine does when the DB is down) is a clear 503."""
    from governance.service.api.deps import Services
    from governance.core.errors import StorageError

    def down(self):
        raise StorageError("database postgresql://x@db/test is unreachable: connection refused")

    monkeypatch.setattr(Services, "engine", property(down))
    r = api.client.get("/api/me", headers=api.h("admin"))
    assert r.status_code == 503 and r.json()["error"]["code"] == "storage-unavailable"
    assert r.headers["Retry-After"]
    assert api.client.get("/healthz").status_code == 503
