"""One settings object for every command and flow.

Sources, strongest first: keyword arguments, ``REELGUARD_*`` environment variables,
``$REELGUARD_HOME/config.toml``, defaults. ``REELGUARD_HOME`` (default: the per-user data
directory) holds the database, keys and caches, so two homes never mix.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from governance.core.errors import ConfigError

__all__ = ["Settings", "get_settings", "default_home"]

Jurisdiction = Literal["eu", "cn", "us-ca", "none"]


def default_home() -> Path:
    env = os.environ.get("REELGUARD_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("reelguard", appauthor=False))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads ``$REELGUARD_HOME/config.toml`` when it exists."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = default_home() / "config.toml"
        if not path.is_file():
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
        return data.get("reelguard", data)


class Settings(BaseSettings):
    """ReelGuard configuration (environment prefix ``REELGUARD_``)."""

    model_config = SettingsConfigDict(env_prefix="REELGUARD_", extra="forbid")

    home: Path = Field(default_factory=default_home)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///$REELGUARD_HOME/reelguard.db"
    )
    key_dir: Path | None = Field(default=None, description="default $REELGUARD_HOME/keys")
    policy_packs: list[Path] = Field(
        default_factory=list, description="extra policy pack files or folders (bundled packs always load)"
    )
    model: str | None = Field(default=None, description="model folder or hub id; default: embedded model")
    jurisdiction: Jurisdiction = "eu"
    policy_semantic: bool = Field(
        default=True, description="semantic matching of prompts against exemplars (MiniLM); lexical rules always run"
    )
    device: str = "cpu"
    organisation: str = "ReelGuard Local Development"
    key_passphrase: str | None = Field(default=None, repr=False, description="encrypts private keys at rest")
    tsa_url: str | None = Field(
        default=None, description="RFC 3161 time-stamp authority; default: the install's own TSA on loopback"
    )
    timestamp: bool = Field(
        default=True, description="time-stamp every manifest (off only for tests of the untimestamped path)"
    )
    trust_lists: list[str] = Field(
        default_factory=lambda: ["c2pa", "c2pa-tsa", "cai-anchors", "cai-allowed"],
        description="bundled trust lists the verifier uses (see `reelguard trust list`)",
    )
    trust_own_ca: bool = Field(default=True, description="trust this install's own CA when verifying")
    trust_ekus: list[str] = Field(default_factory=list, description="extra accepted signer EKUs (OIDs)")
    remote_manifests: bool = Field(default=False, description="fetch remote C2PA manifests a file points to")
    remote_manifest_hosts: list[str] = Field(default_factory=list, description="hosts remote manifests may come from")
    remote_manifest_max_bytes: int = 16 * 1024 * 1024
    remote_manifest_timeout_s: float = 10.0
    remote_manifest_allow_loopback: bool = Field(default=False, description="tests and local development only")
    remote_manifest_https_only: bool = Field(default=True, description="refuse plain-http manifest URLs")
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description="Celery broker for jobs")
    max_upload_bytes: int = 512 * 1024 * 1024
    max_pixels: int = 3840 * 2160
    max_frames: int = 60 * 60 * 60
    retention_days: int = 365 * 3
    protected_match_action: Literal["block", "review"] = Field(
        default="block", description="what happens to a generated clip that matches protected material"
    )
    # Likeness guard (issue 18): thresholds chosen on the DEV split of benchmarks/bench_likeness.py.
    likeness_threshold: float = Field(
        default=0.45, gt=0, lt=2, description="face descriptor distance that counts as the same person"
    )
    likeness_min_frames: int = Field(
        default=2, ge=1, description="sampled frames an enrolled person must match in (a still: one)"
    )
    likeness_sample_interval_s: float = Field(
        default=0.5, gt=0, description="seconds between sampled frames (cuts are sampled too)"
    )
    likeness_scope: str = Field(
        default="video", min_length=1, description="consent scope the likeness gate asks licences for"
    )
    likeness_photo_max_pixels: int = Field(
        default=50_000_000,
        gt=0,
        description="largest enrolment photo, by its declared size (phone photos are 12-50 MP)",
    )
    consent_evidence_required: bool = Field(
        default=False, description="`consent grant` refuses a licence without --evidence FILE"
    )
    audit_checkpoint_every_events: int = Field(
        default=100, ge=0, description="sign and publish an audit checkpoint after this many events (0: never)"
    )
    audit_checkpoint_every_minutes: float = Field(
        default=10.0, ge=0, description="and when this long has passed since the last one, checked on append (0: never)"
    )
    audit_witness: str | None = Field(
        default=None,
        description="where checkpoints are published: a folder or an http(s) URL; default $REELGUARD_HOME/witness",
    )
    audit_witness_timeout_s: float = Field(default=5.0, gt=0, description="HTTP witness timeout")
    environment: Literal["local", "production"] = Field(
        default="local",
        description='"production" refuses the install\'s self-made CA and a missing tsa_url at start-up',
    )
    # Operator identity and the service's day (issue 23).
    actor: str | None = Field(
        default=None,
        max_length=100,
        description="who acts at the CLI, as the audit log names them (`--actor`); default: the OS user",
    )
    warm_policy: bool = Field(
        default=False,
        description="load the policy engine (packs, indexes, model: seconds) while the API starts, "
        "not inside its first policy check (`serve` turns it on; `serve --no-warm` leaves it lazy)",
    )
    public_verify: bool = Field(
        default=False, description="anonymous verification on the page and POST /api/verify (`serve --public-verify`)"
    )
    public_verify_per_minute: float = Field(
        default=10.0, gt=0, description="anonymous verifications per client per minute"
    )
    public_verify_burst: int = Field(default=5, ge=1, description="anonymous verifications a client may make at once")
    public_verify_max_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="upload limit for anonymous verification"
    )
    public_verify_concurrency: int = Field(
        default=2, ge=1, description="anonymous verifications running at once per API process"
    )
    rate_limit_redis: bool = Field(
        default=False, description="share the anonymous rate limit between API processes through Redis (broker_url)"
    )
    generate_in_process: bool = Field(
        default=False, description="POST /api/generate runs the job in the API process when no worker is alive"
    )
    worker_stale_after_s: float = Field(default=30.0, gt=0, description="a worker unseen this long counts as gone")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @field_validator("home", "key_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'reelguard.db'}"

    @cached_property
    def keys_path(self) -> Path:
        return self.key_dir or self.home / "keys"

    @cached_property
    def cache_path(self) -> Path:
        return self.home / "cache"

    @cached_property
    def manifests_path(self) -> Path:
        return self.home / "manifests"

    @cached_property
    def uploads_path(self) -> Path:
        return self.home / "uploads"

    def operator(self) -> str:
        """The audit actor for local commands: ``actor`` when set, else the OS login name."""
        if self.actor and self.actor.strip():
            return self.actor.strip()
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers): the uid still names someone
            return f"uid:{os.getuid()}"

    def ensure_dirs(self) -> None:
        """Create the home layout (keys 0700)."""
        try:
            fresh = not self.home.exists()
            for path in (self.home, self.cache_path, self.manifests_path, self.uploads_path):
                path.mkdir(parents=True, exist_ok=True)
            if fresh:
                os.chmod(self.home, 0o700)  # the database, keys and uploads live here
            self.keys_path.mkdir(parents=True, exist_ok=True)
            os.chmod(self.keys_path, 0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create ReelGuard home {self.home}: {exc.strerror}") from exc


def get_settings(**overrides: Any) -> Settings:
    """Load settings from the environment, the config file and ``overrides``."""
    try:
        return Settings(**overrides)
    except ConfigError:
        raise
    except Exception as exc:  # pydantic ValidationError: report it as a config problem
        raise ConfigError(f"invalid ReelGuard settings: {exc}") from exc
