"""The ReelGuard exception tree, in one place.

    ReelGuardError                      (root: see below for catching the leaf roots)
    ├── ConfigError                     bad settings or config file                 exit 10
    ├── StorageError                    database unreachable / unwritable           exit 11
    ├── KeyMaterialError                missing, malformed or mismatched keys       exit 12
    │   └── PassphraseError             wrong or missing passphrase                 exit 13
    ├── SigningError                    C2PA signing failed                         exit 14
    ├── OutputExistsError               output exists and --force not given         exit 15
    ├── OutputError                     output path unwritable                      exit 16
    ├── AuditError                      audit log problems                          exit 17
    │   └── AuditIntegrityError         the log does not verify                     exit 18
    ├── TrustError                      trust lists: not PEM, unknown list, bad EKU exit 26
    ├── PolicyDenied                    the policy refused the prompt               exit 3
    ├── flows.ProtectedMaterialBlocked  output matched protected material           exit 4
    │   └── references.ReferenceProtectedMaterial  a reference matched it           exit 4
    ├── references.ReferenceUseRefused  a reference's credentials forbid AI use     exit 6
    ├── references.ReferenceMediaError  reference missing, wrong kind or format     exit 34
    ├── flows.likeness.LikenessBlocked  (a PolicyDenied) enrolled face or person    exit 5
    │                                   without a consent licence: prompt, reference or output
    ├── timestamp.TimestampError        (a SigningError) the TSA failed             exit 14
    ├── registry.RegistryError          protected-material registry                 exit 19
    │   └── registry.WorkNotFound
    ├── consent.ConsentError            likeness licences                           exit 19
    ├── likeness.LikenessError          likeness registry: bad id, already enrolled exit 19
    ├── jobs.QueueUnavailable / BatchTimeout / JobBusy   the job engine
    ├── policies.PolicyError            (virtual) malformed packs, bad prompts      exit 40-42
    ├── generator.GeneratorError        (virtual) model loading / parameters        exit 30-33
    └── detectors.DetectorError         (virtual) media, watermark, fingerprints    exit 20-25
        └── faces.FaceError             face models; NoFaceFound 28, SeveralFaces 29 exit 27

Classes marked with a module prefix live beside the code that raises them.
The leaf packages (policies, generator, detectors) never import governance, so their roots
cannot inherit from ``ReelGuardError``. They are registered as virtual subclasses, so
``isinstance(exc, ReelGuardError)`` holds for every ReelGuard error; Python's ``except`` clause,
however, matches real bases only, so catch ``ANY_ERROR`` (the tuple of the four roots) to catch
everything ReelGuard raises.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from detectors.errors import DetectorError
from generator.errors import GeneratorError
from policies.errors import PolicyError

if TYPE_CHECKING:  # pragma: no cover
    from policies.base import PolicyDecision

__all__ = [
    "ReelGuardError",
    "ConfigError",
    "StorageError",
    "KeyMaterialError",
    "PassphraseError",
    "SigningError",
    "OutputExistsError",
    "OutputError",
    "AuditError",
    "AuditIntegrityError",
    "TrustError",
    "PolicyDenied",
    "exit_code_for",
    "ANY_ERROR",
]


class ReelGuardError(Exception, metaclass=abc.ABCMeta):
    """Root of every error ReelGuard raises."""

    exit_code = 1


ReelGuardError.register(PolicyError)
ReelGuardError.register(GeneratorError)
ReelGuardError.register(DetectorError)

# What an ``except`` clause needs to catch every ReelGuard error (see the module docstring).
ANY_ERROR: tuple[type[Exception], ...] = (ReelGuardError, PolicyError, GeneratorError, DetectorError)


class ConfigError(ReelGuardError):
    exit_code = 10


class StorageError(ReelGuardError):
    exit_code = 11


class KeyMaterialError(ReelGuardError):
    exit_code = 12


class PassphraseError(KeyMaterialError):
    exit_code = 13


class SigningError(ReelGuardError):
    exit_code = 14


class OutputExistsError(ReelGuardError):
    exit_code = 15


class OutputError(ReelGuardError):
    exit_code = 16


class AuditError(ReelGuardError):
    exit_code = 17


class AuditIntegrityError(AuditError):
    exit_code = 18


class TrustError(ReelGuardError):
    """A trust list or certificate the verifier was given cannot be used."""

    exit_code = 26


class PolicyDenied(ReelGuardError):
    """The policy engine refused the prompt; ``decision`` says why."""

    exit_code = 3

    def __init__(self, decision: PolicyDecision) -> None:
        self.decision = decision
        super().__init__(f"prompt refused by policy ({decision.action}): {decision.reason}")


def exit_code_for(exc: BaseException) -> int:
    """The CLI exit code for an exception (1 for anything unexpected)."""
    return int(getattr(exc, "exit_code", 1))
