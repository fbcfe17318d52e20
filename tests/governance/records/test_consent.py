"""Consent registry: licences granted, found, revoked and audited; the engine passes under them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from governance.records.audit.models import AuditEntry
from governance.records.consent import ConsentError, ConsentRegistry, scope_covers
from governance.records.storage.db import get_engine
from policies import Action, ConsentLookup, PolicyEngine


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def policy() -> PolicyEngine:
    return PolicyEngine.load(semantic=False)


@pytest.fixture
def registry(tmp_path) -> ConsentRegistry:
    return ConsentRegistry(get_engine(f"sqlite:///{tmp_path / 'consent.db'}"))


def consent_actions(registry: ConsentRegistry) -> list[str]:
    with Session(registry.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.kind == "consent").order_by(AuditEntry.leaf_index))
        return [json.loads(e.payload)["event"]["action"] for e in entries]


def test_registry_is_a_consent_lookup(registry):
    assert isinstance(registry, ConsentLookup)


def test_grant_find_revoke_round_trip_is_audited(registry, policy):
    lic = registry.grant(person_id="taylor-swift", granted_by="agent@example.com", scope="video",
                         expires_at=now() + timedelta(days=30))
    assert lic.id.startswith("lic_") and lic.active
    assert registry.find_license("taylor-swift", scope="video", at=now()) == lic.id

    d = policy.check("Taylor Swift skiing", consent=registry)
    assert d.action is Action.REQUIRE_CONSENT and d.allowed and d.consent_license_id == lic.id

    revoked = registry.revoke(license_id=lic.id, revoked_by="agent@example.com", reason="contract ended")
    assert not revoked.active and revoked.revoked_at is not None
    assert not policy.check("Taylor Swift skiing", consent=registry).allowed
    assert consent_actions(registry) == ["grant", "revoke"]


def test_expired_and_out_of_scope_licences_do_not_count(registry):
    lic = registry.grant(person_id="lionel-messi", granted_by="agent", scope="video:ads",
                         expires_at=now() + timedelta(days=1))
    assert registry.find_license("lionel-messi", scope="video:ads", at=now() + timedelta(hours=1)) == lic.id
    assert registry.find_license("lionel-messi", scope="video", at=now() + timedelta(hours=1)) is None
    assert registry.find_license("lionel-messi", scope="video:ads", at=now() + timedelta(days=2)) is None
    assert registry.find_license("lionel-messi", scope="video:ads", at=now() - timedelta(days=1)) is None
    assert registry.list(person_id="lionel-messi")[0].id == lic.id


def test_scope_hierarchy():
    assert scope_covers("*", "video:ads") and scope_covers("video", "video:ads") and scope_covers("video", "video")
    assert not scope_covers("video:ads", "video") and not scope_covers("vid", "video")


@pytest.mark.parametrize("kwargs, message", [
    ({"person_id": "Bad Id!", "granted_by": "x"}, "invalid person id"),
    ({"person_id": "a", "granted_by": " "}, "granted_by is required"),
    ({"person_id": "a", "granted_by": "x", "scope": "video ads"}, "invalid scope"),
    ({"person_id": "a", "granted_by": "x", "expires_at": now() - timedelta(days=1)}, "in the past"),
])
def test_bad_grants_are_refused(registry, kwargs, message):
    with pytest.raises(ConsentError, match=message):
        registry.grant(**kwargs)
    assert consent_actions(registry) == []


def test_revoking_twice_or_unknown_is_an_error(registry):
    lic = registry.grant(person_id="a", granted_by="x")
    registry.revoke(license_id=lic.id, revoked_by="x")
    with pytest.raises(ConsentError, match="already revoked"):
        registry.revoke(license_id=lic.id, revoked_by="x")
    with pytest.raises(ConsentError, match="no licence"):
        registry.revoke(license_id="lic_missing", revoked_by="x")


def test_registered_private_person_needs_consent(registry):
    registry.register_names(subject_id="jane-roe", names=["Jane Roe", "Janie Roe"], owner="Jane Roe")
    policy = PolicyEngine.load(extra_packs=[registry.protected_pack()], semantic=False)
    refused = policy.check("Janie Roe dancing in the rain", consent=registry)
    assert refused.action is Action.REQUIRE_CONSENT and not refused.allowed and refused.persons == ("jane-roe",)
    lic = registry.grant(person_id="jane-roe", granted_by="Jane Roe")
    assert policy.check("Jane Roe dancing", consent=registry).consent_license_id == lic.id


def test_cli_grant_list_revoke(home):
    from governance.service.cli.consent import app

    runner = CliRunner()
    granted = runner.invoke(app, ["grant", "taylor-swift", "--by", "agent", "--expires", "2099-01-01", "--json"])
    assert granted.exit_code == 0, granted.output
    lic_id = json.loads(granted.output)["id"]
    listed = json.loads(runner.invoke(app, ["list", "--json"]).output)["licenses"]
    assert [lic["id"] for lic in listed] == [lic_id]
    assert runner.invoke(app, ["revoke", lic_id, "--by", "agent"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["list", "--json"]).output)["licenses"] == []
    bad = runner.invoke(app, ["grant", "x", "--by", "a", "--expires", "tomorrow"])
    assert bad.exit_code == ConsentError.exit_code and "not an ISO date" in bad.output
