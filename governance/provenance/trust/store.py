"""The verifier's trust store under ``$REELGUARD_HOME/trust``.

    trust/lists/<name>.pem  (+ .json)   a newer copy of a bundled list (``trust update``)
    trust/extra/<kind>.pem              the operator's own anchors, allowed signers, TSAs
    trust/ekus.txt                      extra accepted extended key usages, one OID a line

Sources, each shown by ``reelguard trust list``: the four bundled lists (or their updated
copies), the operator's additions, and the install's own CA and TSA (so ReelGuard's own output
verifies ``trusted`` on the install that made it). Writes are atomic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from detectors.provenance.trust import DEFAULT_EKUS, TrustConfig
from governance.core.errors import KeyMaterialError, TrustError
from governance.core.secrets import write_secret_file
from governance.core.settings import Settings
from governance.provenance.keys import certs
from governance.provenance.trust.lists import BUNDLED, Kind, ListSpec, bundled_bytes, parse_certificates

__all__ = ["TrustStore", "TrustSource", "TrustedCertificate"]

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]{0,9})){1,30}$")
_KINDS: tuple[Kind, ...] = ("anchor", "allowed", "tsa")


@dataclass(frozen=True)
class TrustedCertificate:
    subject: str
    organisation: str | None
    fingerprint: str  # sha256 of the DER
    not_after: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TrustSource:
    name: str
    kind: str  # anchor / allowed / tsa / own
    title: str
    origin: str  # "bundled (source, licence)", the file or URL of an update, or the install's keys
    dated: str | None
    certificates: tuple[x509.Certificate, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "title": self.title,
            "origin": self.origin,
            "dated": self.dated,
            "certificates": len(self.certificates),
        }


def _describe(cert: x509.Certificate, source: str) -> TrustedCertificate:
    orgs = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    return TrustedCertificate(
        subject=cert.subject.rfc4514_string(),
        organisation=str(orgs[0].value) if orgs else None,
        fingerprint=certs.fingerprint(cert),
        not_after=cert.not_valid_after_utc.date().isoformat(),
        source=source,
    )


class TrustStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.home / "trust"

    # -- reading ---------------------------------------------------------------------------
    def sources(self) -> tuple[TrustSource, ...]:
        out = [self._bundled(spec) for spec in BUNDLED if spec.name in self.settings.trust_lists]
        for kind in _KINDS:
            path = self.root / "extra" / f"{kind}.pem"
            if path.is_file():
                out.append(
                    TrustSource(
                        f"operator-{kind}",
                        kind,
                        f"operator-added {kind} certificates",
                        str(path),
                        None,
                        tuple(parse_certificates(path.read_bytes(), source=str(path))),
                    )
                )
        own = self._own()
        if own is not None:
            out.append(own)
        return tuple(out)

    def _bundled(self, spec: ListSpec) -> TrustSource:
        updated = self.root / "lists" / f"{spec.name}.pem"
        if updated.is_file():
            meta = self._update_meta(spec.name)
            listed = parse_certificates(updated.read_bytes(), source=str(updated))
            return TrustSource(
                spec.name,
                spec.kind,
                spec.title,
                f"updated from {meta.get('origin', '?')}",
                meta.get("issued") or meta.get("updated_at"),
                tuple(listed),
            )
        listed = parse_certificates(bundled_bytes(spec), source=f"bundled {spec.file}")
        return TrustSource(
            spec.name, spec.kind, spec.title, f"bundled: {spec.source}, {spec.licence}", spec.dated, tuple(listed)
        )

    def _own(self) -> TrustSource | None:
        if not self.settings.trust_own_ca:
            return None
        from governance.provenance.keys import trust_bundle_pem

        try:
            pem = trust_bundle_pem(self.settings)
        except KeyMaterialError as exc:
            raise TrustError(f"the install's own trust bundle is unreadable: {exc}") from None
        if not pem:
            return None
        own = parse_certificates(pem.encode(), source="own trust bundle")
        return TrustSource(
            "own",
            "anchor",
            "this install's CA and time-stamp authority",
            str(self.settings.keys_path / "c2pa"),
            None,
            tuple(own),
        )

    def ekus(self) -> tuple[str, ...]:
        path = self.root / "ekus.txt"
        extra = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()] if path.is_file() else []
        return tuple(dict.fromkeys([*DEFAULT_EKUS, *self.settings.trust_ekus, *(e for e in extra if e)]))

    def config(self) -> TrustConfig:
        """What ``read_provenance`` takes; TrustError when a list on disk is unusable."""
        by_kind: dict[str, list[x509.Certificate]] = {"anchor": [], "allowed": [], "tsa": []}
        for source in self.sources():
            by_kind["anchor" if source.kind == "own" else source.kind].extend(source.certificates)
        return TrustConfig(
            anchors_pem=certs.cert_pem(*by_kind["anchor"]),
            allowed_pem=certs.cert_pem(*by_kind["allowed"]),
            tsa_anchors_pem=certs.cert_pem(*by_kind["tsa"]),
            ekus=self.ekus(),
        )

    def certificates(self) -> tuple[TrustedCertificate, ...]:
        return tuple(_describe(c, s.name) for s in self.sources() for c in s.certificates)

    # -- changing --------------------------------------------------------------------------
    def add(self, data: bytes, *, kind: Kind, source: str) -> int:
        """Add the operator's certificates of ``kind``; returns how many were new."""
        if kind not in _KINDS:
            raise TrustError(f"unknown kind {kind!r}; choose one of {', '.join(_KINDS)}")
        new = parse_certificates(data, source=source)
        path = self.root / "extra" / f"{kind}.pem"
        old = parse_certificates(path.read_bytes(), source=str(path)) if path.is_file() else []
        seen = {certs.fingerprint(c) for c in old}
        fresh = [c for c in new if certs.fingerprint(c) not in seen]
        if fresh:
            self._write(path, certs.cert_pem(*old, *fresh).encode())
        return len(fresh)

    def remove(self, fingerprint: str) -> int:
        """Remove an operator-added certificate by (a prefix of at least 8 hex of) its SHA-256."""
        prefix = fingerprint.lower().removeprefix("sha256:")
        if not re.fullmatch(r"[0-9a-f]{8,64}", prefix):
            raise TrustError("give at least 8 hex characters of the certificate's SHA-256 fingerprint")
        removed = 0
        for kind in _KINDS:
            path = self.root / "extra" / f"{kind}.pem"
            if not path.is_file():
                continue
            found = parse_certificates(path.read_bytes(), source=str(path))
            keep = [c for c in found if not certs.fingerprint(c).startswith(prefix)]
            if len(keep) != len(found):
                removed += len(found) - len(keep)
                if keep:
                    self._write(path, certs.cert_pem(*keep).encode())
                else:
                    path.unlink()
        return removed

    def add_eku(self, oid: str) -> bool:
        if not _OID.match(oid):
            raise TrustError(f"{oid!r} is not an object identifier (dotted numbers, e.g. 1.3.6.1.4.1.311.76.59.1.9)")
        if oid in self.ekus():
            return False
        path = self.root / "ekus.txt"
        text = path.read_text() if path.is_file() else ""
        self._write(path, (text + oid + "\n").encode())
        return True

    def update(self, name: str, data: bytes, *, origin: str) -> TrustSource:
        """Replace a bundled list with a newer copy (PEM or the C2PA JSON form), validated first."""
        spec = next((s for s in BUNDLED if s.name == name), None)
        if spec is None:
            raise TrustError(f"unknown list {name!r}; the lists are {', '.join(s.name for s in BUNDLED)}")
        found = parse_certificates(data, source=origin)
        issued = _issue_date(data)
        self._write(self.root / "lists" / f"{name}.pem", certs.cert_pem(*found).encode())
        meta = {
            "origin": origin,
            "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "issued": issued,
            "sha256": hashlib.sha256(data).hexdigest(),
            "certificates": len(found),
        }
        self._write(self.root / "lists" / f"{name}.json", json.dumps(meta, indent=2).encode())
        return self._bundled(spec)

    def revert(self, name: str) -> bool:
        """Drop an updated copy so the bundled list applies again."""
        found = False
        for suffix in (".pem", ".json"):
            path = self.root / "lists" / f"{name}{suffix}"
            if path.is_file():
                path.unlink()
                found = True
        return found

    def _update_meta(self, name: str) -> dict[str, Any]:
        try:
            return json.loads((self.root / "lists" / f"{name}.json").read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_secret_file(path, data)
            path.chmod(0o644)  # certificates are public
        except OSError as exc:
            raise TrustError(f"{path}: cannot write ({exc.strerror})") from None


def _issue_date(data: bytes) -> str | None:
    if not data.lstrip().startswith(b"{"):
        return None
    try:
        value = json.loads(data)["LoTE"]["ListAndSchemeInformation"]["ListIssueDateTime"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(value)[:10]
