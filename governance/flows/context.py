"""The long-lived pieces a flow needs, built lazily once per process: settings, database,
policy engine, generator, signing identity, watermark scheme and key, registry."""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from governance.core.errors import ConfigError, ReelGuardError
from governance.core.settings import Settings, get_settings

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from detectors.provenance import TrustConfig
    from detectors.watermark import WatermarkScheme
    from generator import VideoGenerator
    from governance.provenance.keys import SigningIdentity
    from governance.records.audit import AuditLog
    from governance.records.registry import ProtectedRegistry
    from policies import PolicyEngine

__all__ = ["FlowContext"]


def _harden_home(settings: Settings) -> None:
    """The home holds keys, records and journals: 0700 when this user owns it."""
    try:
        info = settings.home.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(settings.home, 0o700)
    except OSError:
        pass


class FlowContext:
    """Everything the generate / verify / register flows share.

    Construction is cheap; each component loads on first use, so ``reelguard verify`` never
    loads a diffusion model and ``reelguard policy check`` never opens a video codec.
    """

    def __init__(
        self, settings: Settings | None = None, *, semantic_policy: bool | None = None, recover: bool = True
    ) -> None:
        self.settings = settings or get_settings()
        self.settings.ensure_dirs()
        _harden_home(self.settings)
        self._semantic_policy = self.settings.policy_semantic if semantic_policy is None else semantic_policy
        self._generators: dict[str, VideoGenerator] = {}
        self._tsa: Any = None  # the loopback TSA, once signing needs it
        self.recovered: list[Any] = self._recover() if recover else []  # False: a read-only look (doctor)

    def _recover(self) -> list[Any]:
        """Start-up recovery: finish or clean up generations whose process died (see
        ``governance.flows.doctor``). One directory listing when there is nothing to do; a
        failure here never stops the context (``reelguard doctor`` reports what is left)."""
        from governance.flows.doctor import recover_inflight

        try:
            return recover_inflight(self)
        except (ReelGuardError, OSError):
            return []

    @cached_property
    def actor(self) -> str:
        """Who acts when a flow is called without an actor: ``settings.actor`` (``--actor``) or
        the OS user, so the audit log names a person rather than "cli"."""
        return self.settings.operator()

    def check_environment(self) -> None:
        """ConfigError when ``environment = "production"`` and the install would sign with its
        self-made development CA or without an external time-stamp authority. Called at the
        start of generation and of ``serve``, before any model loads."""
        if self.settings.environment != "production" or self.__dict__.get("_environment_ok"):
            return
        from governance.provenance.keys import identity_info

        problems = []
        if not self.settings.tsa_url:
            problems.append("no tsa_url is set (production time-stamps with an external RFC 3161 TSA)")
        try:
            imported = identity_info(self.settings).imported
        except ReelGuardError:
            imported = False  # no identity yet: the first generation would create a development CA
        if not imported:
            problems.append(
                "the signer is the install's self-made development CA "
                "(import the organisation's certificate with `reelguard keys import`)"
            )
        if problems:
            raise ConfigError('environment = "production" refuses to start: ' + "; ".join(problems))
        self.__dict__["_environment_ok"] = True

    def close(self) -> None:
        """Stop the loopback TSA if this context started one (its thread is a daemon anyway)."""
        if self._tsa is not None:
            self._tsa.stop()
            self._tsa = None
            self.__dict__.pop("signing_identity", None)

    @cached_property
    def engine(self) -> Engine:
        from governance.records.storage.db import get_engine

        return get_engine(self.settings.resolved_database_url)

    @cached_property
    def audit(self) -> AuditLog:
        from governance.records.audit import AuditLog

        return AuditLog(self.engine, settings=self.settings)

    @cached_property
    def policy(self) -> PolicyEngine:
        # Fail closed: a pack that does not load raises here and no generation starts.
        from policies import PolicyEngine

        packs: list[object] = list(self.settings.policy_packs)
        if self.consent.protected_names():  # names rights holders registered for their works
            packs.append(self.consent.protected_pack())
        return PolicyEngine.load(
            extra_packs=packs, semantic=self._semantic_policy, model_cache=self.settings.cache_path / "models"
        )

    @cached_property
    def consent(self):
        from governance.records.consent import ConsentRegistry

        return ConsentRegistry(self.engine, audit=self.audit)  # one log, with the install's tags

    @cached_property
    def identity(self) -> SigningIdentity:
        from governance.provenance.keys import load_or_create_identity

        return load_or_create_identity(self.settings)

    @cached_property
    def signing_identity(self) -> SigningIdentity:
        """The identity generation signs with, time-stamped: by the configured TSA, or else by
        the install's own TSA on loopback (started once per process), so every manifest proves
        when it was signed and keeps verifying after the signer certificate expires."""
        identity = self.identity
        if self.settings.tsa_url:
            return identity.with_tsa(self.settings.tsa_url)
        if not self.settings.timestamp:
            return identity
        from governance.provenance.timestamp import LoopbackTSA

        self._tsa = LoopbackTSA.from_settings(self.settings).start()
        return identity.with_tsa(self._tsa.url)

    @cached_property
    def trust_anchors_pem(self) -> str:
        """The install's own anchors only (its CA and TSA): what ``keys export-trust`` gives others."""
        from governance.provenance.keys import trust_bundle_pem

        _ = self.identity  # a fresh home creates its CA first, so its own output verifies as trusted
        return trust_bundle_pem(self.settings)

    @cached_property
    def trust(self) -> TrustConfig:
        """What the verifier trusts: the bundled lists, the operator's additions, the own CA."""
        from governance.provenance.trust import TrustStore

        if self.settings.trust_own_ca:
            _ = self.identity  # a fresh home creates its CA first, so its own output verifies as trusted
        return TrustStore(self.settings).config()

    @cached_property
    def remote_fetch(self) -> Callable[[str], bytes] | None:
        """Fetches remote manifests under the operator's policy; None while fetching is off."""
        if not self.settings.remote_manifests:
            return None
        from governance.provenance.remote import RemotePolicy, fetch_remote_manifest

        policy = RemotePolicy.from_settings(self.settings)
        return lambda url: fetch_remote_manifest(url, policy)

    @cached_property
    def watermark(self) -> WatermarkScheme:
        from detectors.watermark import get_scheme

        return get_scheme()

    @cached_property
    def watermark_key(self) -> bytes:
        from governance.core.secrets import watermark_key

        return watermark_key(self.settings)

    @cached_property
    def registry(self) -> ProtectedRegistry:
        from governance.records.registry import ProtectedRegistry

        return ProtectedRegistry(self.engine, self.settings)

    def generator(self, model: str | None = None) -> VideoGenerator:
        from generator import load_generator

        key = model or self.settings.model or ""
        if key not in self._generators:
            self._generators[key] = load_generator(key or None, device=self.settings.device)
        return self._generators[key]
