"""Protected-material registry: rights holders' works, matched against generated or incoming clips.

from governance.records.registry import ProtectedRegistry, WorkMatch
registry = ProtectedRegistry(engine, settings)
registry.add_path("film.mp4", owner="Studio", title="Film")
registry.match_path("upload.mp4")  # -> list[WorkMatch]
"""

from governance.records.registry.matching import MatchConfig, WorkMatch
from governance.records.registry.own import OwnMatch, OwnOutputs
from governance.records.registry.service import (
    ProtectedRegistry,
    RegisteredWork,
    RegistryError,
    RegistryScan,
    Skipped,
    WorkNotFound,
)

__all__ = [
    "ProtectedRegistry",
    "WorkMatch",
    "MatchConfig",
    "OwnMatch",
    "OwnOutputs",
    "RegistryScan",
    "RegisteredWork",
    "RegistryError",
    "WorkNotFound",
    "Skipped",
]
