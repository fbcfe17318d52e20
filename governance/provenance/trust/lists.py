"""The bundled trust lists and the parsing every list goes through (PEM or ETSI TS 119 602 JSON)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from cryptography import x509

from governance.core.errors import TrustError

__all__ = ["ListSpec", "BUNDLED", "Kind", "parse_certificates", "bundled_bytes", "MAX_LIST_BYTES"]

Kind = Literal["anchor", "allowed", "tsa"]
MAX_LIST_BYTES = 8 * 1024 * 1024  # the official lists are ~50-200 kB
_TRUSTED_STATUS = ("/trusted", "/granted", "/recognisedatnationallevel")


@dataclass(frozen=True)
class ListSpec:
    name: str
    kind: Kind
    file: str
    title: str
    source: str
    licence: str
    dated: str  # when the bundled copy was issued or frozen


BUNDLED: tuple[ListSpec, ...] = (
    ListSpec(
        "c2pa",
        "anchor",
        "c2pa-trust-list.pem",
        "C2PA conformance program trust list",
        "c2pa-org/conformance-public trust-list/ (7dbff51)",
        "CC BY 4.0",
        "2026-08-05",
    ),
    ListSpec(
        "c2pa-tsa",
        "tsa",
        "c2pa-tsa-trust-list.pem",
        "C2PA trusted time-stamp authorities",
        "c2pa-org/conformance-public trust-list/ (7dbff51)",
        "CC BY 4.0",
        "2026-08-05",
    ),
    ListSpec(
        "cai-anchors",
        "anchor",
        "cai-anchors.pem",
        "Content Authenticity Initiative interim trust anchors",
        "contentauth/verify-site static/trust/anchors.pem (506f98c)",
        "Apache-2.0",
        "2026-01-01",
    ),
    ListSpec(
        "cai-allowed",
        "allowed",
        "cai-allowed.pem",
        "Content Authenticity Initiative allowed signers",
        "contentauth/verify-site static/trust/allowed.pem (506f98c)",
        "Apache-2.0",
        "2026-01-01",
    ),
)


def bundled_bytes(spec: ListSpec) -> bytes:
    return resources.files("governance.provenance.trust").joinpath("bundled", spec.file).read_bytes()


def parse_certificates(data: bytes, *, source: str) -> list[x509.Certificate]:
    """Certificates from PEM text or an ETSI TS 119 602 trust list (JSON: only services whose
    status is trusted). TrustError, naming ``source``, for anything else."""
    if len(data) > MAX_LIST_BYTES:
        raise TrustError(f"{source}: {len(data)} bytes is larger than any trust list ({MAX_LIST_BYTES} at most)")
    stripped = data.lstrip()
    if stripped.startswith(b"{"):
        return _from_json(stripped, source=source)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise TrustError(f"{source}: not a PEM certificate list or a C2PA trust list (JSON)")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise TrustError(f"{source}: malformed PEM certificate ({exc})") from None
    if not certs:
        raise TrustError(f"{source}: contains no certificate")
    return certs


def _from_json(data: bytes, *, source: str) -> list[x509.Certificate]:
    try:
        doc = json.loads(data)
        entities = doc["LoTE"]["TrustedEntitiesList"]
    except (ValueError, KeyError, TypeError):
        raise TrustError(
            f"{source}: JSON but not an ETSI TS 119 602 trust list (no LoTE.TrustedEntitiesList)"
        ) from None
    out: list[x509.Certificate] = []
    for entity in entities if isinstance(entities, list) else ():
        for service in _list(entity, "TrustedEntityServices"):
            info = service.get("ServiceInformation") if isinstance(service, dict) else None
            if not isinstance(info, dict) or not str(info.get("ServiceStatus", "")).lower().endswith(_TRUSTED_STATUS):
                continue
            identity = info.get("ServiceDigitalIdentity") or {}
            for item in _list(identity, "X509Certificates"):
                value = item.get("val") if isinstance(item, dict) else None
                if isinstance(value, str):
                    try:
                        out.append(x509.load_der_x509_certificate(base64.b64decode(value)))
                    except ValueError as exc:
                        raise TrustError(f"{source}: a certificate in the list does not parse ({exc})") from None
    if not out:
        raise TrustError(f"{source}: the trust list names no trusted certificate")
    return out


def _list(obj: Any, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []
