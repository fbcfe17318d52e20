"""Read a C2PA manifest and interpret it: trusted, valid (untrusted), invalid, or absent.

c2pa-rs (through c2pa-python) parses and validates; this module turns its results into one
typed ``ProvenanceReport``: the state, the failure codes, who signed and when, the soft
binding (watermark scheme + payload), whether the manifest claims AI generation, and the
ReelGuard / GB 45438 / SB 942 fields. Pure reading: no network (remote manifests and OCSP
are off), no writes, and "no manifest" is a state, never an exception.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import c2pa

from detectors.errors import MediaError, ProvenanceError
from detectors.memory import HugePageReads

__all__ = [
    "ProvenanceReport",
    "SoftBinding",
    "IngredientReport",
    "ProvenanceState",
    "read_provenance",
    "read_manifest_store",
    "interpret",
    "AI_SOURCE_TYPES",
]

ProvenanceState = Literal["trusted", "valid", "invalid", "absent"]

_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES = frozenset(
    _IPTC + name for name in ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
)
# Labels written by governance.signing (kept equal by tests/detectors/test_provenance_labels).
GENERATION_LABEL = "org.reelguard.generation"
AIGC_LABEL = "org.reelguard.aigc"
SB942_LABEL = "org.reelguard.sb942"
TRAINING_MINING_LABEL = "cawg.training-mining"
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
MAX_MANIFEST_BOX_BYTES = 64 * 1024 * 1024  # a ReelGuard manifest is ~15 kB; thumbnails stay far below this
_C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_BMFF_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".m4a", ".heic", ".heif", ".avif"})
# Extended key usages accepted for signers besides c2pa-rs's defaults (emailProtection, c2pa-kp-claimSigning ...).
DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"
_MIME = {".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime", ".c2pa": "application/c2pa",
         ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@dataclass(frozen=True)
class SoftBinding:
    alg: str
    payload_hex: str


@dataclass(frozen=True)
class IngredientReport:
    title: str | None
    relationship: str | None
    format: str | None
    manifest_label: str | None  # None: the ingredient carried no manifest
    state: Literal["valid", "invalid", "unsigned"]
    codes: tuple[str, ...]


@dataclass(frozen=True)
class ProvenanceReport:
    state: ProvenanceState
    codes: tuple[str, ...] = ()  # failure codes of the active manifest
    source: Literal["embedded", "sidecar", "store", "none"] = "none"
    manifest_label: str | None = None
    signer: str | None = None  # signing certificate common name
    issuer: str | None = None
    algorithm: str | None = None
    signed_at: dt.datetime | None = None  # from the RFC 3161 timestamp; None when untimestamped
    soft_binding: SoftBinding | None = None
    claims_ai_generated: bool = False
    digital_source_type: str | None = None
    content_id: str | None = None
    generation: dict[str, Any] | None = None  # the org.reelguard.generation assertion
    aigc: dict[str, Any] | None = None  # GB 45438 Appendix E fields
    sb942: dict[str, Any] | None = None  # California SB 942 latent disclosure
    training_mining: dict[str, Any] | None = None
    ingredients: tuple[IngredientReport, ...] = ()
    manifest: dict[str, Any] | None = field(default=None, repr=False)  # active manifest as c2pa-rs reads it
    informational: tuple[str, ...] = ()
    error: str | None = None  # why c2pa could not parse a manifest that is there

    @property
    def ingredient_codes(self) -> tuple[str, ...]:
        return tuple(code for ing in self.ingredients for code in ing.codes)

    @property
    def ok(self) -> bool:
        """Trusted or valid, and every ingredient that carried a manifest validated too."""
        return self.state in ("trusted", "valid") and not any(i.state == "invalid" for i in self.ingredients)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        out["ingredients"] = [asdict(i) for i in self.ingredients]
        out["codes"] = list(self.codes)
        out["informational"] = list(self.informational)
        out["ok"] = self.ok
        return out


def _context(trust_anchors_pem: str | None, extra_ekus: tuple[str, ...]) -> c2pa.Context:
    verify = {"verify_after_reading": True, "verify_trust": True, "ocsp_fetch": False,
              "remote_manifest_fetch": False}
    config: dict[str, Any] = {"verify": verify}
    if trust_anchors_pem:
        trust: dict[str, Any] = {"trust_anchors": trust_anchors_pem}
        if extra_ekus:
            trust["trust_config"] = "\n".join(("1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.8", "1.3.6.1.4.1.62558.2.1", *extra_ekus)) + "\n"
        config["trust"] = trust
    try:
        return c2pa.Context.from_dict(config)
    except c2pa.C2paError as exc:
        raise ProvenanceError(f"c2pa rejected the trust settings (malformed anchors?): {exc}") from None


def read_provenance(
    path: str | os.PathLike[str],
    *,
    trust_anchors_pem: str | None = None,
    sidecar: str | os.PathLike[str] | bytes | None = None,
    extra_ekus: tuple[str, ...] = (),
) -> ProvenanceReport:
    """Read and interpret the manifest of ``path`` (embedded, or ``sidecar`` / ``<path>.c2pa``).

    ``trust_anchors_pem``: the anchors a ``trusted`` state requires; without them a good
    signature reads ``valid`` with ``signingCredential.untrusted``. Raises MediaError when
    ``path`` is not a readable file; never raises for a missing manifest.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: no such file")
    manifest_data = _sidecar_bytes(p, sidecar)
    fmt = _MIME.get(p.suffix.lower())
    oversized = _oversized_manifest_box(p) if p.suffix.lower() in _BMFF_SUFFIXES else None
    if oversized is not None:
        return ProvenanceReport(state="invalid", codes=("manifest.tooLarge",), source="embedded",
                                error=f"C2PA box of {oversized} bytes exceeds {MAX_MANIFEST_BOX_BYTES}; not parsed")
    context = _context(trust_anchors_pem, extra_ekus)
    try:
        with open(p, "rb") as raw:
            handle = HugePageReads(raw)  # c2pa-rs reads the media in one call into a fresh buffer
            reader = _try_read(fmt, handle, None, context)
            source = "embedded"
            if reader is None and manifest_data is not None:
                handle.seek(0)
                reader = _try_read(fmt, handle, manifest_data, context)
                source = "sidecar"
            if reader is None:
                return ProvenanceReport(state="absent")
            try:
                return interpret(json.loads(reader.json()), source=source)
            finally:
                reader.close()
    except _Unreadable as exc:
        return ProvenanceReport(state="invalid", codes=(exc.code,), source="embedded", error=str(exc))
    except OSError as exc:
        raise MediaError(f"{p}: cannot read ({exc.strerror})") from None
    finally:
        context.close()


def read_manifest_store(store: bytes, *, trust_anchors_pem: str | None = None) -> ProvenanceReport:
    """Interpret a bare manifest store (a ``.c2pa`` sidecar or one recovered from the manifest
    store) without its asset: the signature and trust are checked; the hard binding cannot be,
    so its ``assertion.*Hash.mismatch`` codes are expected and kept in ``codes``."""
    if len(store) > MAX_SIDECAR_BYTES:
        raise ProvenanceError(f"manifest store of {len(store)} bytes exceeds {MAX_SIDECAR_BYTES}")
    context = _context(trust_anchors_pem, ())
    try:
        reader = _try_read("application/c2pa", io.BytesIO(store), None, context)
        if reader is None:
            return ProvenanceReport(state="absent")
        try:
            return interpret(json.loads(reader.json()), source="store")
        finally:
            reader.close()
    except _Unreadable as exc:
        return ProvenanceReport(state="invalid", codes=(exc.code,), source="store", error=str(exc))
    finally:
        context.close()


def _oversized_manifest_box(path: Path) -> int | None:
    """Size of a top-level C2PA ``uuid`` box above the limit (hostile sizes never reach c2pa-rs)."""
    try:
        with open(path, "rb") as handle:
            end = os.fstat(handle.fileno()).st_size
            pos = 0
            for _ in range(10_000):  # top-level boxes only; a real file has a handful
                if pos + 8 > end:
                    return None
                handle.seek(pos)
                header = handle.read(32)
                size, kind = int.from_bytes(header[:4], "big"), header[4:8]
                offset = 8
                if size == 1:
                    size, offset = int.from_bytes(header[8:16], "big"), 16
                elif size == 0:
                    size = end - pos
                if size < offset:
                    return None  # malformed: let c2pa-rs report it
                if kind == b"uuid" and header[offset : offset + 16] == _C2PA_UUID and size > MAX_MANIFEST_BOX_BYTES:
                    return size
                pos += size
    except OSError:
        return None
    return None


class _Unreadable(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _try_read(fmt: str | None, stream: Any, manifest_data: bytes | None, context: c2pa.Context) -> c2pa.Reader | None:
    try:
        return c2pa.Reader.try_create(fmt, stream, manifest_data, context)
    except c2pa.C2paError.NotSupported:
        return None  # a format c2pa cannot carry (WebM, MKV): nothing embedded to read
    except c2pa.C2paError as exc:
        name = type(exc).__name__.lstrip("_").removeprefix("C2pa") or "Error"
        return_code = f"manifest.unreadable.{name.lower()}"
        raise _Unreadable(return_code, f"manifest present but unreadable: {str(exc)[:200]}") from None


def _sidecar_bytes(p: Path, sidecar: str | os.PathLike[str] | bytes | None) -> bytes | None:
    if isinstance(sidecar, bytes):
        data = sidecar
    else:
        candidate = Path(sidecar) if sidecar is not None else p.with_suffix(".c2pa")
        if sidecar is None and (candidate == p or not candidate.is_file()):
            return None
        try:
            size = candidate.stat().st_size
            if size > MAX_SIDECAR_BYTES:
                raise ProvenanceError(f"{candidate}: sidecar of {size} bytes exceeds {MAX_SIDECAR_BYTES}")
            data = candidate.read_bytes()
        except OSError as exc:
            raise ProvenanceError(f"{candidate}: cannot read sidecar ({exc.strerror})") from None
    if len(data) > MAX_SIDECAR_BYTES:
        raise ProvenanceError(f"sidecar of {len(data)} bytes exceeds {MAX_SIDECAR_BYTES}")
    return data


def _codes(results: dict[str, Any] | None, kind: str) -> tuple[str, ...]:
    if not results:
        return ()
    return tuple(str(item.get("code")) for item in results.get(kind) or () if item.get("code"))


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any] | None:
    for item in manifest.get("assertions") or ():
        if item.get("label") == label and isinstance(item.get("data"), dict):
            return item["data"]
    return None


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _soft_binding(manifest: dict[str, Any]) -> SoftBinding | None:
    data = _assertion(manifest, "c2pa.soft-binding")
    if not data or not isinstance(data.get("alg"), str):
        return None
    for block in data.get("blocks") or ():
        value = block.get("value") if isinstance(block, dict) else None
        if isinstance(value, str):
            return SoftBinding(alg=data["alg"], payload_hex=value.lower())
        if isinstance(value, list):  # a bstr written as bytes by other tools
            return SoftBinding(alg=data["alg"], payload_hex=bytes(value).hex())
    return None


def _ai_source(manifest: dict[str, Any]) -> tuple[bool, str | None]:
    for label in ("c2pa.actions.v2", "c2pa.actions"):
        data = _assertion(manifest, label)
        for action in (data or {}).get("actions") or ():
            kind = action.get("action")
            source = action.get("digitalSourceType")
            if kind in ("c2pa.created", "c2pa.edited") and source:
                return source in AI_SOURCE_TYPES, source
    return False, None


def _ingredients(manifest: dict[str, Any]) -> tuple[IngredientReport, ...]:
    out = []
    for ing in manifest.get("ingredients") or ():
        label = ing.get("active_manifest")
        results = (ing.get("validation_results") or {}).get("activeManifest")
        codes = _codes(results, "failure")
        if not label:
            state = "unsigned"
        else:
            state = "invalid" if any(c != "signingCredential.untrusted" for c in codes) else "valid"
        out.append(IngredientReport(ing.get("title"), ing.get("relationship"), ing.get("format"), label, state, codes))
    return tuple(out)


def interpret(store: dict[str, Any], *, source: str = "embedded") -> ProvenanceReport:
    """Turn c2pa-rs's reader JSON (``Reader.json()``) into a ProvenanceReport."""
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) if label else None
    state_raw = str(store.get("validation_state") or "Invalid")
    results = (store.get("validation_results") or {}).get("activeManifest")
    codes = _codes(results, "failure")
    if manifest is None:
        return ProvenanceReport(state="invalid", codes=codes or ("manifest.missingActive",), source=source)  # type: ignore[arg-type]
    state: ProvenanceState = {"Trusted": "trusted", "Valid": "valid"}.get(state_raw, "invalid")  # type: ignore[assignment]
    if state == "invalid" and not codes:
        codes = ("validation.notPerformed",)  # c2pa says Invalid without a reason (verification off)
    sig = manifest.get("signature_info") or {}
    ai, source_type = _ai_source(manifest)
    generation = _assertion(manifest, GENERATION_LABEL)
    aigc_data = _assertion(manifest, AIGC_LABEL)
    content_id = generation.get("content_id") if generation else None
    return ProvenanceReport(
        state=state,
        codes=codes,
        source=source,  # type: ignore[arg-type]
        manifest_label=label,
        signer=sig.get("common_name"),
        issuer=sig.get("issuer"),
        algorithm=sig.get("alg"),
        signed_at=_parse_time(sig.get("time")),
        soft_binding=_soft_binding(manifest),
        claims_ai_generated=ai,
        digital_source_type=source_type,
        content_id=content_id if isinstance(content_id, str) else None,
        generation=generation,
        aigc=(aigc_data or {}).get("AIGC") if aigc_data else None,
        sb942=_assertion(manifest, SB942_LABEL),
        training_mining=_assertion(manifest, TRAINING_MINING_LABEL),
        ingredients=_ingredients(manifest),
        manifest=manifest,
        informational=_codes(results, "informational"),
    )
