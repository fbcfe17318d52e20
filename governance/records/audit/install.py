"""What an install adds to a bare audit log: its checkpoint key, its witness, automatic
checkpoints and its retention period, found once per process by the install's settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

if TYPE_CHECKING:  # pragma: no cover
    from governance.core.settings import Settings
    from governance.records.audit.checkpoint import NoteSigner
    from governance.records.audit.witness import AutoCheckpointer, Witness

__all__ = ["Install", "install_for", "detect_install"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Install:
    """What an install adds to a bare log: its key, its witness, automatic checkpoints."""

    signer: NoteSigner
    witness: Witness
    auto: AutoCheckpointer
    retention_days: int


_INSTALLS: dict[tuple, Install] = {}


def install_for(settings: Settings) -> Install:
    from governance.records.audit.checkpoint import load_or_create_signer
    from governance.records.audit.witness import AutoCheckpointer, witness_for

    key = (
        settings.resolved_database_url,
        str(settings.keys_path),
        settings.organisation,
        settings.audit_witness,
        str(settings.home),
        settings.audit_checkpoint_every_events,
        settings.audit_checkpoint_every_minutes,
        settings.retention_days,
    )
    found = _INSTALLS.get(key)
    if found is None:
        signer = load_or_create_signer(settings)
        witness = witness_for(settings)
        auto = AutoCheckpointer(
            signer,
            witness,
            every_events=settings.audit_checkpoint_every_events,
            every_minutes=settings.audit_checkpoint_every_minutes,
        )
        found = _INSTALLS[key] = Install(signer, witness, auto, settings.retention_days)
    return found


def detect_install(engine: Engine) -> Install | None:
    """The install whose database ``engine`` is (by the settings of this environment), or None."""
    try:
        from governance.core.settings import get_settings

        settings = get_settings()
        if settings.resolved_database_url != engine.url.render_as_string(hide_password=False):
            return None
        return install_for(settings)
    except Exception as exc:  # no usable settings or key: a bare log (verify will say so)
        _logger.warning("audit log without the install's checkpoint key: %s", exc)
        return None
