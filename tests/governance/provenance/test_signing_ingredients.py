"""Ingredients at the signing layer: a reference's own manifest rides along (so the chain is
verifiable), a file without credentials becomes a hash-only ingredient, and both c2pa-rs and the
independent TypeScript reader (tests/c2pa_ts) read them back."""

from __future__ import annotations

import hashlib
import shutil

import cv2
import numpy as np
import pytest

from detectors.provenance import read_provenance
from governance.core.errors import SigningError
from governance.provenance.keys import load_or_create_identity, trust_bundle_pem
from governance.provenance.signing import GENERATION_LABEL, Ingredient, SignOptions, sign_video
from governance.provenance.trust import TrustStore
from tests.c2pa_ts.support import C2PA_TS_READY, C2PA_TS_SKIP, c2pa_ts_read, make_clip, make_spec, new_settings
from tests.conftest import C2PA_SAMPLES, require_shared


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    base = tmp_path_factory.mktemp("ingredients")
    settings = new_settings(base)
    return settings, load_or_create_identity(settings), make_clip(base / "clip.mp4"), base


def test_foreign_manifest_and_hash_only_ingredients_read_back_by_both_readers(home, tmp_path):
    settings, identity, clip, _ = home
    titan = shutil.copy(require_shared(C2PA_SAMPLES / "c2pa-ts__amazon-titan-g1.png"), tmp_path / "titan.png")
    still = tmp_path / "still.jpg"
    cv2.imwrite(str(still), np.full((24, 32, 3), 90, np.uint8))
    own = read_provenance(titan)
    references = ({"sha256": "ab" * 32, "kind": "image"},)
    spec = make_spec(ingredients=(Ingredient(titan, "inputTo", "titan reference"), Ingredient(still, "inputTo")),
                     references=references)
    # the verifier's whole trust store, as the generate flow passes it when references are present
    options = SignOptions(trust=TrustStore(settings).config().c2pa_settings() or None)
    signed = sign_video(clip, tmp_path / "out.mp4", spec=spec, identity=identity, options=options)
    report = read_provenance(signed.path, trust_anchors_pem=trust_bundle_pem(settings))
    assert report.state == "trusted" and report.ok
    by_title = {i.title: i for i in report.ingredients}
    foreign, plain = by_title["titan reference"], by_title["still.jpg"]
    assert foreign.manifest_label == own.manifest_label and foreign.state == "valid"
    assert foreign.sha256 == hashlib.sha256(titan.read_bytes()).hexdigest()
    assert (plain.manifest_label, plain.state, plain.format) == (None, "unsigned", "image/jpeg")
    assert plain.sha256 == hashlib.sha256(still.read_bytes()).hexdigest()  # computed when not given
    generation = next(a["data"] for a in report.manifest["assertions"] if a["label"] == GENERATION_LABEL)
    assert generation["references"] == [dict(r) for r in references]
    if not C2PA_TS_READY:
        pytest.skip(C2PA_TS_SKIP)
    theirs = c2pa_ts_read(signed.path)[str(signed.path)]
    assert theirs["valid"], theirs["failures"]
    assert own.manifest_label in theirs["manifests"] and theirs["active_label"] == signed.manifest_label
    titles = {i["title"]: i for i in theirs["ingredients"]}
    assert titles["titan reference"]["relationship"] == "inputTo"
    assert own.manifest_label in titles["titan reference"]["active_manifest"]
    assert titles["still.jpg"]["active_manifest"] is None


def test_no_references_leaves_the_generation_assertion_as_before(home, tmp_path):
    _, identity, clip, _ = home
    signed = sign_video(clip, tmp_path / "plain.mp4", spec=make_spec(), identity=identity)
    report = read_provenance(signed.path)
    generation = next(a["data"] for a in report.manifest["assertions"] if a["label"] == GENERATION_LABEL)
    assert "references" not in generation and report.ingredients == ()


def test_sniffed_media_type_wins_over_a_lying_suffix(home, tmp_path):
    _, identity, clip, _ = home
    liar = tmp_path / "photo.jpg"
    cv2.imwrite(str(tmp_path / "real.png"), np.full((8, 8, 3), 10, np.uint8))
    liar.write_bytes((tmp_path / "real.png").read_bytes())
    spec = make_spec(ingredients=(Ingredient(liar, "inputTo", media_type="image/png"),))
    report = read_provenance(sign_video(clip, tmp_path / "o.mp4", spec=spec, identity=identity).path)
    assert report.ingredients[0].format == "image/png"


@pytest.mark.parametrize(("kwargs", "message"), [(dict(sha256="XYZ"), "64 lowercase hex")])
def test_bad_ingredient_digest_is_refused(tmp_path, kwargs, message):
    with pytest.raises(SigningError, match=message):
        Ingredient(tmp_path / "x.png", **kwargs)


@pytest.mark.parametrize("rubric", ["asset-rubric-conformance0.2-spec2.4.yml", "asset-rubric-integrity.yml"])
def test_generation_from_a_foreign_reference_passes_the_conformance_rubrics(home, tmp_path, rubric):
    """c2pa.created with an ``inputTo`` ingredient that carries another issuer's manifest: every
    rule of the 2.4 conformance rubric and the integrity rubric evaluates and passes."""
    from detectors.provenance.rubrics import evaluate_rubric, load_rubric
    from tests.governance.provenance.test_conformance import _crjson, _outcomes

    settings, identity, clip, _ = home
    titan = shutil.copy(require_shared(C2PA_SAMPLES / "c2pa-ts__amazon-titan-g1.png"), tmp_path / "titan.png")
    spec = make_spec(ingredients=(Ingredient(titan, "inputTo"),), references=({"sha256": "cd" * 32},))
    anchors = trust_bundle_pem(settings)
    signed = sign_video(clip, tmp_path / "i2v.mp4", spec=spec, identity=identity,
                        options=SignOptions(trust_anchors_pem=anchors))
    report = evaluate_rubric(load_rubric(rubric), _crjson(signed.path, anchors))
    assert len(report.results) == len(load_rubric(rubric).statements)
    assert all(r.outcome == "pass" for r in report.results), _outcomes(report)


def test_an_ingredient_changed_after_its_check_is_refused(home, tmp_path):
    _, identity, clip, _ = home
    still = tmp_path / "ref.png"
    cv2.imwrite(str(still), np.full((8, 8, 3), 10, np.uint8))
    checked = hashlib.sha256(still.read_bytes()).hexdigest()
    cv2.imwrite(str(still), np.full((8, 8, 3), 200, np.uint8))  # swapped between the checks and signing
    spec = make_spec(ingredients=(Ingredient(still, "inputTo", sha256=checked),))
    with pytest.raises(SigningError, match="changed after it was checked"):
        sign_video(clip, tmp_path / "o.mp4", spec=spec, identity=identity)
    assert not (tmp_path / "o.mp4").exists()
