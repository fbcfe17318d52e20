"""C2PA asset rubrics: the bundled rubrics load and parse, evaluate to typed reports, and the
signals rubric finds GenAI (and capture) where real Content Credentials from other issuers
declare it. The evaluator itself is tested in test_rubrics_formula.py."""

from __future__ import annotations

import dataclasses
import os
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.errors import ProvenanceError
from detectors.provenance.formula import FormulaError, FormulaSyntaxError, parse_formula
from detectors.provenance.rubrics import (
    GENAI_SIGNALS, RubricError, bundled_rubrics, crjson_from_json, crjson_from_reader, evaluate_rubric,
    evaluate_signals, load_rubric, load_rubric_file, signal_ids, signals,
)
from tests.conftest import SHARED

DATA = resources.files("detectors.provenance.rubrics_data")
NEEDED = ("asset-rubric-signals-local.yml", "asset-rubric-integrity.yml",
          "asset-rubric-conformance0.2-spec2.2.yml", "asset-rubric-conformance0.2-spec2.4.yml")
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _bundled_files() -> list[str]:
    names = [f"{name}" for name in bundled_rubrics()]
    names += [f"composables/{item.name}" for item in DATA.joinpath("composables").iterdir()
              if item.name.endswith(".yml")]
    return sorted(names)


def _expressions(name: str) -> list[str]:
    documents = list(yaml.safe_load_all(DATA.joinpath(*name.split("/")).read_text(encoding="utf-8")))
    found = []
    for index, document in enumerate(documents):
        if index == 0 and isinstance(document, dict):
            found += list((document.get("expressions") or {}).values())
        items = document if isinstance(document, list) else []
        found += [item["expression"] for item in items if isinstance(item, dict) and "expression" in item]
    return found


# --------------------------------------------------------------------------- bundled data
def test_bundled_data_is_complete_and_attributed():
    assert set(NEEDED) <= set(bundled_rubrics())
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    assert "7dbff51" in readme and "CC BY 4.0" in readme
    assert "Attribution 4.0 International" in DATA.joinpath("LICENSE-conformance-public-CC-BY-4.0.txt").read_text(
        encoding="utf-8")


def test_every_expression_in_every_bundled_rubric_parses():
    expressions = [text for name in _bundled_files() for text in _expressions(name)]
    assert len(expressions) >= 235  # 7dbff51: 235 expressions over 30 files
    for text in expressions:
        parse_formula(text.strip())


@pytest.mark.parametrize("name", _bundled_files())
def test_every_bundled_rubric_loads(name):
    rubric = load_rubric(name)
    assert all(statement.expression is not None for statement in rubric.statements)


def test_loading_resolves_includes_and_the_expected_spec_version():
    compiled = load_rubric("asset-rubric-signals-local.yml")
    composed = load_rubric("composables/signal-inception-fullyGenAIMedia-local.yml")
    # globals-signals.yml includes globals-actions.yml and globals-manifest.yml
    assert {"_createdWithDst", "_manifest_createdWithDst", "_manifest_signalActions"} <= set(composed.expressions)
    assert composed.variables["$inception_actions"] == ("c2pa.created", "c2pa.opened")  # read-only copies
    manifest = _manifest([{"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}])
    assert evaluate_rubric(composed, manifest).result("signal_fullyGenAIMedia").passed is True
    assert evaluate_rubric(compiled, manifest).result("inception:signal_fullyGenAIMedia").passed is True
    assert load_rubric(NEEDED[2]).variables["$expected_spec_version"] == "2.2"
    assert load_rubric(NEEDED[3]).variables["$expected_spec_version"] == "2.4"
    assert load_rubric(NEEDED[3], spec_version="2.5").variables["$expected_spec_version"] == "2.5"


def test_bad_rubrics_are_refused_with_typed_errors(tmp_path: Path):
    with pytest.raises(RubricError):
        load_rubric("../formula.py")
    with pytest.raises(RubricError):
        load_rubric("no-such-rubric.yml")
    (tmp_path / "a.yml").write_text("rubric_metadata: {name: a}\ninclude: [b.yml]\n")
    (tmp_path / "b.yml").write_text("rubric_metadata: {name: b}\ninclude: [a.yml]\n")
    with pytest.raises(RubricError, match="deeper"):
        load_rubric_file(tmp_path / "a.yml")
    (tmp_path / "bad.yml").write_text("rubric_metadata: {name: bad}\n---\n- id: x\n  expression: 'a[?'\n"
                                      "  reportText: x\n")
    with pytest.raises(RubricError, match=r"statement x.*a\[\?") as caught:
        load_rubric_file(tmp_path / "bad.yml")
    assert isinstance(caught.value.__cause__, FormulaSyntaxError)
    bomb = "".join(f"  $l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]\n" for i in range(1, 12))
    (tmp_path / "bomb.yml").write_text("rubric_metadata: {name: b}\nvariables:\n  $l0: &l0 [x]\n" + bomb)
    with pytest.raises(RubricError, match="too large"):
        load_rubric_file(tmp_path / "bomb.yml")
    (tmp_path / "vars.yml").write_text("rubric_metadata: {name: v}\nvariables: {novar: 1}\n")
    with pytest.raises(RubricError, match=r"\$"):
        load_rubric_file(tmp_path / "vars.yml")


# --------------------------------------------------------------------------- evaluation
RUBRIC = """\
rubric_metadata: {name: Test, issuer: us, date: '2026-01-01', version: 1.0.0, language: fr}
variables: {$bad: [x.bad]}
expressions: {_codes: "manifests[0].codes"}
---
- id: intro
  title: Section
  reportText: {en: Hello, fr: "Bonjour {{rubric_metadata.name}}"}
- id: has_codes
  expression: length(_codes()) > 0
  reportText: {"true": {en: "yes", fr: oui}, "false": {en: "no", fr: non}}
- id: no_bad_codes
  failIfMatched: true
  expression: _codes()[?contains($bad, @)]
  reportText: {"true": clean, "false": "bad: {{matches}}"}
- id: style
  warnIfMatched: true
  expression: _codes()[?startsWith(@, "w.")]
  reportText: {"true": fine, "false": "style: {{matches}}"}
- id: uses_profile
  expression: profile.has_codes && !profile.no_bad_codes
  reportText: "profile works: {{has_codes}}"
- id: broken
  expression: length(manifests[0].missing)
  reportText: never
- block:
    name: meta
    value: '{{ expr "@.rubric_metadata.name" }}'
"""


def test_report_outcomes_texts_profile_and_blocks(tmp_path: Path):
    (tmp_path / "r.yml").write_text(RUBRIC)
    rubric = load_rubric_file(tmp_path / "r.yml")
    report = evaluate_rubric(rubric, {"manifests": [{"codes": ["x.bad", "w.one", "ok"]}]})
    assert (report.name, report.version) == ("Test", "1.0.0")
    assert [r.id for r in report.results] == ["intro", "has_codes", "no_bad_codes", "style", "uses_profile", "broken"]
    outcomes = {r.id: (r.outcome, r.passed) for r in report.results}
    assert outcomes == {"intro": ("info", None), "has_codes": ("pass", True), "no_bad_codes": ("fail", False),
                        "style": ("warn", False), "uses_profile": ("fail", False), "broken": ("error", None)}
    assert report.result("intro").report_text == "Bonjour Test"
    assert report.result("has_codes").report_text == "oui"
    assert report.result("no_bad_codes").report_text == "bad: x.bad"
    assert report.result("no_bad_codes").matches == ("x.bad",)
    assert report.result("style").report_text == "style: w.one"
    assert "length()" in (report.result("broken").error or "")
    assert report.blocks[0].name == "meta" and report.blocks[0].value == "Test"
    assert [r.id for r in report.failures] == ["no_bad_codes", "uses_profile"] and not report.passed
    clean = evaluate_rubric(rubric, {"manifests": [{"codes": ["ok"]}]}, language="en")
    assert clean.result("uses_profile").passed is True and clean.result("has_codes").report_text == "yes"
    assert clean.result("no_bad_codes").value == ()  # frozen: arrays are tuples
    with pytest.raises(dataclasses.FrozenInstanceError):
        clean.results[0].passed = True  # type: ignore[misc]


_NEEDED_RUBRICS = [load_rubric(name) for name in NEEDED]


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["assertions", "c2pa.actions.v2", "c2pa.actions", "actions", "action",
                                         "digitalSourceType", "c2pa.ingredient", "c2pa_manifest", "claim.v2",
                                         "validationResults", "failure", "code", "manifests", "label"]),
                        inner, max_size=4), max_leaves=25))
def test_bundled_rubrics_never_crash_on_arbitrary_documents(document):
    for rubric in _NEEDED_RUBRICS:
        report = evaluate_rubric(rubric, document if isinstance(document, dict) else {"x": document})
        assert len(report.results) == len(rubric.statements)
    for store in ({"manifests": [document]}, {"manifests": [{"assertions": document}]}):
        assert all(signal.id for signal in signals(store))


# --------------------------------------------------------------------------- signals
def _manifest(actions: list[dict], **extra: object) -> dict:
    return {"label": extra.pop("label", "urn:c2pa:test"),
            "assertions": {"c2pa.actions.v2": {"actions": actions, "allActionsIncluded": True}, **extra}}


def test_signals_per_manifest_with_scope():
    store = {"manifests": [
        _manifest([{"action": "c2pa.opened"},
                   {"action": "c2pa.placed", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}], label="urn:c2pa:a"),
        _manifest([{"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}], label="urn:c2pa:b"),
    ]}
    found = {(s.id, s.scope, s.manifest_label, s.lenient) for s in signals(store)}
    assert found == {("perceptibleGenAI", "active", "urn:c2pa:a", False),
                     ("capturedMedia", "ingredient", "urn:c2pa:b", False)}
    assert signal_ids(signals(store)) == ("capturedMedia", "perceptibleGenAI")
    assert signals({}) == () and signals({"manifests": "nonsense"}) == ()


def test_flat_ingredient_with_a_source_type_is_a_pseudo_manifest():
    ingredient = {"relationship": "componentOf", "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia"}
    store = {"manifests": [_manifest([{"action": "c2pa.placed", "digitalSourceType": IPTC + "digitalCapture"}],
                                     **{"c2pa.ingredient.v3": ingredient})]}
    pseudo = [s for s in signals(store) if s.pseudo]
    assert [(s.id, s.scope, s.ingredient) for s in pseudo] == [
        ("partlyGenAICreation", "ingredient", "c2pa.ingredient.v3")]
    assert "mediaUnknownProvenance" in signal_ids(signals(store))


def test_lenient_view_reads_v1_actions_and_loose_source_types():
    v1 = {"label": "urn:uuid:1", "assertions": {"c2pa.actions": {"actions": [
        {"action": "c2pa.created", "digitalSourceType": " https://cv.iptc.org/newscodes/digitalsourcetype/"
                                                         "trainedAlgorithmicMedia"}]}}}
    assert signals({"manifests": [v1]}, lenient=False) == ()
    found = signals({"manifests": [v1]})
    assert {(s.id, s.lenient) for s in found} == {("fullyGenAIMedia", True), ("ambiguousActions", True)}
    nodes = evaluate_signals({"manifests": [v1]})
    assert [node.lenient_view for node in nodes] == [False, True]
    assert nodes[0].report.errors  # the published rubric cannot read a v1 manifest at all


# --------------------------------------------------------------------------- real samples
SAMPLES = SHARED / "c2pa" / "samples"
TRUST = SHARED / "c2pa" / "trust"
MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".wav": "audio/wav", ".mp4": "video/mp4"}
EKUS = ("1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.8", "1.3.6.1.5.5.7.3.9",
        "1.3.6.1.4.1.311.76.59.1.9", "1.3.6.1.4.1.62558.2.1")


@pytest.fixture(scope="module")
def read_store():
    if not SAMPLES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the shared C2PA samples are missing: {SAMPLES}")
        pytest.skip(f"shared C2PA samples not found at {SAMPLES}")
    import c2pa

    anchors = "".join((TRUST / name).read_text() for name in (
        "cai-verify-anchors.pem", "C2PA-TRUST-LIST.pem", "C2PA-TSA-TRUST-LIST.pem", "c2pa-rs-test-cert-root-bundle.pem"))
    context = c2pa.Context.from_dict({
        "verify": {"verify_after_reading": True, "verify_trust": True, "ocsp_fetch": False,
                   "remote_manifest_fetch": False},
        "core": {"allowed_network_hosts": []},  # no DID look-ups for CAWG identities
        "trust": {"trust_anchors": anchors, "allowed_list": (TRUST / "cai-verify-allowed.pem").read_text(),
                  "trust_config": "\n".join(EKUS) + "\n"},
    })
    stores: dict[str, dict] = {}

    def read(name: str) -> dict:
        if name not in stores:
            path = SAMPLES / name
            with open(path, "rb") as handle:
                reader = c2pa.Reader.try_create(MIME[path.suffix], handle, None, context)
                try:
                    stores[name] = crjson_from_reader(reader)
                finally:
                    reader.close()
        return stores[name]

    yield read
    context.close()


def _where(found, signal_id: str) -> set[tuple[str, int, bool]]:
    return {(s.scope, s.manifest_index, s.lenient) for s in found if s.id == signal_id}


def test_crjson_is_native_and_has_the_shape_the_rubrics_read(read_store):
    store = read_store("c2pa-rs__C_with_CAWG_data.jpg")
    active = store["manifests"][0]
    assert active["label"].startswith("urn:c2pa:") and "c2pa.actions.v2" in active["assertions"]
    assert "claim.v2" in active and "validationResults" in active
    with pytest.raises(ProvenanceError):
        crjson_from_json("[]")


def test_signals_of_generative_ai_from_other_issuers(read_store):
    titan = signals(read_store("c2pa-ts__amazon-titan-g1.png"))
    assert _where(titan, "fullyGenAIMedia") == {("active", 0, True)}  # c2pa.actions v1
    assert "fullyGenAIMedia" not in signal_ids(signals(read_store("c2pa-ts__amazon-titan-g1.png"), lenient=False))
    digimarc = signals(read_store("c2pa-content-c__genai-picture-validate-protected.jpg"))
    assert _where(digimarc, "fullyGenAIMedia") == {("active", 0, True), ("ingredient", 1, True)}
    assert _where(signals(read_store("c2pa-js-legacy__gen-fill.jpg")), "perceptibleGenAI") == {("active", 0, True)}
    # Firefly's https:// source-type URI is read as the vocabulary's http:// in the lenient view
    assert _where(signals(read_store("c2pa-js-legacy__composite-dst.jpg")), "perceptibleGenAI") == {
        ("active", 0, True)}


def test_generative_ai_in_an_ingredient(read_store):
    v2 = signals(read_store("c2pa-js-legacy__genai-actions-v2.jpg"))
    assert _where(v2, "perceptibleGenAI") == {("active", 0, False)}  # actions v2: the rubric as published
    assert _where(v2, "fullyGenAIMedia") == {("ingredient", 1, True)}
    ocsp = signals(read_store("c2pa-rs__ocsp.jpg"))
    assert ("ingredient", 1, True) in _where(ocsp, "fullyGenAIMedia")
    assert any(s.pseudo and s.id == "partlyGenAICreation" and not s.lenient for s in ocsp)
    assert {s.id for s in ocsp} & GENAI_SIGNALS


def test_capture_and_non_genai_samples(read_store):
    cawg = signals(read_store("c2pa-rs__C_with_CAWG_data.jpg"))
    # its digitalSourceType starts with a space: only the lenient view matches the vocabulary
    assert _where(cawg, "capturedMedia") == {("active", 0, True)} and signal_ids(cawg) == ("capturedMedia",)
    assert signal_ids(signals(read_store("c2pa-python__sample1_signed.wav"))) == ("blankCanvas",)
    # c2pa.created without a digitalSourceType (plus an Adobe-private assertion): no GenAI signal
    assert not set(signal_ids(signals(read_store("c2pa-js-legacy__firefly-1.jpg")))) & GENAI_SIGNALS
    assert signals(read_store("public-testfil__nikon-20221019-building.jpeg")) == ()


@pytest.mark.parametrize("sample", ["c2pa-rs__C_with_CAWG_data.jpg", "c2pa-python__sample1_signed.wav",
                                    "c2pa-rs__ocsp.jpg", "c2pa-ts__amazon-titan-g1.png", "c2pa-rs__XCA.jpg"])
def test_integrity_and_conformance_rubrics_report_every_rule(read_store, sample):
    store = read_store(sample)
    for name in NEEDED[1:]:
        rubric = load_rubric(name)
        report = evaluate_rubric(rubric, store)
        assert [r.id for r in report.results] == [s.id for s in rubric.statements]
        assert not report.errors, report.errors  # every rule evaluates on real crJSON
        assert all(r.report_text and "{{" not in r.report_text for r in report.results)
        assert report.result("validation:valid_data_present").passed is True


def test_known_integrity_and_conformance_outcomes(read_store):
    integrity = load_rubric("asset-rubric-integrity.yml")
    spec22, spec24 = load_rubric(NEEDED[2]), load_rubric(NEEDED[3])
    cawg = read_store("c2pa-rs__C_with_CAWG_data.jpg")  # a 2.x manifest signed by c2pa-rs's test CA
    assert evaluate_rubric(integrity, cawg).passed
    assert evaluate_rubric(spec22, cawg).passed
    report = evaluate_rubric(spec24, cawg)
    assert [r.id for r in report.failures] == ["validation:mandatory_spec_version"]  # no specVersion
    for rule in ("validation:inception_action_position", "validation:active_manifest_urn",
                 "validation:mandatory_dst_for_created_action", "validation:no_deprecated_assertions"):
        assert report.result(rule).passed is True
    assert evaluate_rubric(integrity, read_store("c2pa-rs__ocsp.jpg")).passed  # Adobe, trusted
    titan = evaluate_rubric(integrity, read_store("c2pa-ts__amazon-titan-g1.png"))
    assert [r.id for r in titan.failures] == ["validation:trusted_success"]
    assert titan.result("validation:trusted_success").matches == ("signingCredential.untrusted",)
    xca = evaluate_rubric(integrity, read_store("c2pa-rs__XCA.jpg"))
    assert "assertion.dataHash.mismatch" in xca.result("validation:valid_success").matches
    legacy = evaluate_rubric(spec22, read_store("c2pa-ts__amazon-titan-g1.png"))
    assert legacy.result("validation:active_manifest_urn").passed is False  # urn:uuid: pre-2.2
    assert legacy.result("validation:no_deprecated_assertions").matches == ("c2pa.actions",)


def test_formula_errors_belong_to_the_provenance_tree():
    assert issubclass(FormulaError, ProvenanceError) and issubclass(RubricError, ProvenanceError)
