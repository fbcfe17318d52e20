"""Manifest store: save / load by content id, soft-binding and label lookup, Soft Binding
Resolution API bodies, and re-verification of a recovered manifest."""

from __future__ import annotations

import base64
import json

import pytest

from governance.core.errors import StorageError
from governance.provenance.keys import load_or_create_identity, trust_bundle_pem
from governance.provenance.manifest_store import (
    ManifestStore,
    decode_binding_value,
    manifest_response,
    matches_response,
    recovered_report,
    supported_algorithms_response,
)
from governance.provenance.signing import sign_video
from tests.c2pa_ts.support import make_clip, make_spec, new_settings


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    base = tmp_path_factory.mktemp("store")
    settings = new_settings(base)
    identity = load_or_create_identity(settings)
    signed = sign_video(make_clip(base / "clip.mp4"), base / "signed.mp4", spec=make_spec(), identity=identity)
    store = ManifestStore(settings)
    store.save("0123456789abcdef", signed.manifest_json, signed.manifest_bytes)
    return settings, store, signed


def test_save_and_load_round_trip(stored):
    settings, store, signed = stored
    assert store.load("0123456789abcdef") == json.loads(signed.manifest_json)
    got = store.get("0123456789abcdef")
    assert got.manifest_bytes == signed.manifest_bytes and got.manifest_label == signed.manifest_label
    assert got.manifest_digest == signed.manifest_digest and got.soft_binding == ("reelguard.ss.v1", "00112233aabbccdd")
    assert store.load("ffffffffffffffff") is None
    with pytest.raises(StorageError, match="content_id"):
        store.load("../../etc/passwd")


def test_lookup_by_soft_binding_and_label(stored):
    _, store, signed = stored
    assert store.find_by_binding("reelguard.ss.v1", "00112233AABBCCDD") == ["0123456789abcdef"]
    assert store.find_by_binding("reelguard.ss.v1", "0000000000000000") == []
    assert store.find_by_binding("../x", "00") == []
    assert store.find_by_label(signed.manifest_label).content_id == "0123456789abcdef"
    assert store.find_by_label("urn:c2pa:unknown") is None


def test_soft_binding_resolution_api_bodies(stored):
    _, store, signed = stored
    value = base64.b64encode(bytes.fromhex("00112233aabbccdd")).decode()
    assert matches_response(store, alg="reelguard.ss.v1", value=value) == {"matches": [{"manifestId": signed.manifest_label}]}
    assert matches_response(store, alg="reelguard.ss.v1", value="00112233aabbccdd", similarity=97)["matches"][0]["similarityScore"] == 97
    assert matches_response(store, alg="other.alg", value=value) == {"matches": []}
    assert manifest_response(store, signed.manifest_label) == signed.manifest_bytes
    assert manifest_response(store, "urn:c2pa:nope") is None
    body = supported_algorithms_response(fingerprints=("org.reelguard.pdq.v1",), store=store)
    assert body == {"watermarks": [{"alg": "reelguard.ss.v1"}], "fingerprints": [{"alg": "org.reelguard.pdq.v1"}]}
    with pytest.raises(StorageError):
        decode_binding_value("***")


def test_recovered_manifest_reverifies_signature_and_trust(stored):
    settings, store, signed = stored
    report = recovered_report(store, "0123456789abcdef", trust_anchors_pem=trust_bundle_pem(settings))
    assert report.source == "store" and report.content_id == "0123456789abcdef"
    # bound to bytes we do not have: the binding is set aside, signature and trust still checked
    assert report.codes == () and report.binding_checked is False and report.state == "trusted"
    assert recovered_report(store, "ffffffffffffffff") is None


def test_json_only_saves_and_hostile_sizes(stored, tmp_path):
    _, _, signed = stored
    store = ManifestStore(tmp_path)
    saved = store.save("aaaaaaaaaaaaaaaa", signed.manifest_json)
    assert saved.manifest_bytes is None and store.load("aaaaaaaaaaaaaaaa")["active_manifest"] == signed.manifest_label
    assert manifest_response(store, signed.manifest_label) is None
    with pytest.raises(StorageError, match="manifest store must be"):
        store.save("bbbbbbbbbbbbbbbb", signed.manifest_json, b"x" * (16 * 1024 * 1024 + 1))
    with pytest.raises(StorageError, match="not JSON"):
        store.save("bbbbbbbbbbbbbbbb", "{not json", b"x")
    assert store.get("bbbbbbbbbbbbbbbb") is None  # nothing half-written
