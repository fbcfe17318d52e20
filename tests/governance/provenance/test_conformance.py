"""ReelGuard's signed output against the C2PA Conformance Program 0.2 asset rubrics.

Each clip is signed the way production signs it (``sign_video`` with the install's identity),
read back with c2pa-rs (the install's anchors as trust anchors, no network), turned into
crJSON and evaluated with our rubric evaluator against ``asset-rubric-conformance0.2-spec2.2``,
``asset-rubric-conformance0.2-spec2.4`` and ``asset-rubric-integrity``. Three configurations:
a plain signature, one time-stamped by the install's loopback TSA (as production does), and a
time-stamped edit with ingredients (a signed parent clip, ``parentOf``, and an unsigned still,
``inputTo``).

One manifest cannot pass both conformance rubrics, so each is checked against a manifest
written to its specification version (``ManifestSpec.spec_version``; default 2.4):

- ``validation:mandatory_spec_version``: the 2.4 rubric requires
  ``claim_generator_info.specVersion`` = 2.4.x, the 2.2 rubric requires it absent or 2.2.x.
- the watermark action: the 2.4 rubric lists ``c2pa.watermarked`` as deprecated
  (``validation:no_deprecated_actions``, use ``c2pa.watermarked.bound``), while the 2.2 rubric
  does not allow ``c2pa.watermarked.bound`` (``validation:no_unsupported_actions``).

``test_one_manifest_cannot_pass_both_rubrics`` pins exactly those cross-version failures, so
any other rule that starts failing shows up. Every other (manifest, rubric) pair must have
every statement evaluated and passing: no failure, no warning, no evaluation error.
"""

from __future__ import annotations

import dataclasses

import c2pa
import pytest

from detectors.provenance.rubrics import crjson_from_reader, evaluate_rubric, load_rubric
from governance.provenance.keys import load_or_create_identity, trust_bundle_pem
from governance.provenance.signing import Ingredient, SignOptions, sign_video
from governance.provenance.timestamp import LoopbackTSA
from tests.c2pa_ts.support import make_clip, make_spec, new_settings

SPEC_RUBRICS = {
    "2.2": "asset-rubric-conformance0.2-spec2.2.yml",
    "2.4": "asset-rubric-conformance0.2-spec2.4.yml",
}
INTEGRITY = "asset-rubric-integrity.yml"
CASES = ("plain", "timestamped", "ingredient")
# (manifest written to, rubric version) -> the rules that fail because of the 2.2 / 2.4 conflict
CROSS_VERSION_FAILURES = {
    ("2.2", "2.4"): {"validation:mandatory_spec_version", "validation:no_deprecated_actions"},
    ("2.4", "2.2"): {"validation:mandatory_spec_version", "validation:no_unsupported_actions"},
}


def _crjson(path, anchors: str) -> dict:
    context = c2pa.Context.from_dict(
        {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "core": {"allowed_network_hosts": []},
         "trust": {"trust_anchors": anchors}}
    )
    try:
        with open(path, "rb") as handle:
            reader = c2pa.Reader("video/mp4", handle, context=context)
            try:
                return crjson_from_reader(reader)
            finally:
                reader.close()
    finally:
        context.close()


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[tuple[str, str], dict]:
    """crJSON per (case, spec version), every clip signed once for the module."""
    import cv2
    import numpy as np

    base = tmp_path_factory.mktemp("conformance")
    settings = new_settings(base)
    identity = load_or_create_identity(settings)
    anchors = trust_bundle_pem(settings)
    clip = make_clip(base / "clip.mp4", frames=8)
    edit_source = make_clip(base / "v2v.mp4", seed=3, frames=8)
    still = base / "still.png"
    cv2.imwrite(str(still), np.full((16, 16, 3), 127, np.uint8))
    out: dict[tuple[str, str], dict] = {}
    with LoopbackTSA.from_settings(settings) as tsa:
        stamped = identity.with_tsa(tsa.url)
        for version in SPEC_RUBRICS:
            plain = sign_video(clip, base / f"plain-{version}.mp4", spec=make_spec(spec_version=version),
                               identity=identity)
            timestamped = sign_video(clip, base / f"stamped-{version}.mp4", spec=make_spec(spec_version=version),
                                     identity=stamped)
            spec = make_spec(content_id="1111111111111111", spec_version=version, ingredients=(
                Ingredient(timestamped.path, "parentOf"), Ingredient(still, "inputTo", "reference still")))
            child = sign_video(edit_source, base / f"child-{version}.mp4", spec=spec, identity=stamped,
                               options=SignOptions(trust_anchors_pem=anchors))
            for case, asset in (("plain", plain), ("timestamped", timestamped), ("ingredient", child)):
                out[case, version] = _crjson(asset.path, anchors)
    return out


def _report(store: dict, rubric: str):
    return evaluate_rubric(load_rubric(rubric), store)


def _outcomes(report) -> str:
    lines = (f"  {r.outcome:5} {r.id}: {r.error or r.report_text}" for r in report.results if r.outcome != "pass")
    return "\n".join(lines)


def _pairs():
    for case in CASES:
        for version, rubric in SPEC_RUBRICS.items():
            yield pytest.param(case, version, rubric, id=f"{case}-spec{version}-{rubric.removeprefix('asset-rubric-')}")
            yield pytest.param(case, version, INTEGRITY, id=f"{case}-spec{version}-integrity")


@pytest.mark.parametrize(("case", "version", "rubric"), list(_pairs()))
def test_signed_output_passes_every_rule(stores, case, version, rubric):
    report = _report(stores[case, version], rubric)
    assert len(report.results) == len(load_rubric(rubric).statements)
    bad = [r.id for r in report.results if r.outcome != "pass"]
    assert not bad, f"{report.name}: rules not passing for the {case} clip (spec {version}): {bad}\n{_outcomes(report)}"


@pytest.mark.parametrize(("case"), CASES)
@pytest.mark.parametrize(("version", "rubric_version"), list(CROSS_VERSION_FAILURES))
def test_one_manifest_cannot_pass_both_rubrics(stores, case, version, rubric_version):
    """The 2.2 and 2.4 rubrics disagree on two rules (module docstring): a manifest written to one
    version fails exactly those against the other, is evaluated in full and fails nothing else."""
    report = _report(stores[case, version], SPEC_RUBRICS[rubric_version])
    assert not report.errors, _outcomes(report)
    failed = {r.id for r in report.failures}
    others = {r.id for r in report.results if r.outcome not in ("pass", "fail")}
    assert failed == CROSS_VERSION_FAILURES[version, rubric_version] and not others, _outcomes(report)


def test_the_cases_exercise_what_they_name(stores):
    """Guard against vacuous passes: trusted, time-stamped, and ingredients with a manifest."""
    for version in SPEC_RUBRICS:
        for case in CASES:
            manifest = stores[case, version]["manifests"][0]
            success = {entry["code"] for entry in manifest["validationResults"]["success"]}
            assert "signingCredential.trusted" in success, (case, version)
            claim = manifest["claim.v2"]
            assert claim["created_assertions"][0]["url"].endswith("/c2pa.actions.v2")
            assert manifest["assertions"]["c2pa.actions.v2"]["allActionsIncluded"] is True
            stamped = case != "plain"
            assert ("timeStamp.trusted" in success) is stamped, (case, version)
            assert ("timeStampInfo" in manifest["signature"]) is stamped, (case, version)
        ingredient = stores["ingredient", version]["manifests"][0]["assertions"]
        assert ingredient["c2pa.ingredient.v3"]["relationship"] == "parentOf"
        parent = ingredient["c2pa.ingredient.v3"]
        assert parent["activeManifest"] and parent["validationResults"]["activeManifest"]["success"]
        assert ingredient["c2pa.ingredient.v3__1"]["relationship"] == "inputTo"
        actions = [a["action"] for a in ingredient["c2pa.actions.v2"]["actions"]]
        watermark = "c2pa.watermarked" if version == "2.2" else "c2pa.watermarked.bound"
        assert actions == ["c2pa.opened", "c2pa.edited", watermark]
        info = stores["plain", version]["manifests"][0]["claim.v2"]["claim_generator_info"]
        assert info.get("specVersion") == (None if version == "2.2" else "2.4.0")


def test_spec_version_is_validated():
    from governance.core.errors import SigningError

    assert make_spec().spec_version == "2.4"  # production writes the newest specification
    with pytest.raises(SigningError, match="spec_version must be one of 2.2, 2.4"):
        dataclasses.replace(make_spec(), spec_version="2.3")
