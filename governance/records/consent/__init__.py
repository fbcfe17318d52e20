"""Likeness consent: licences a person (or their agent) grants, and protected names.

from governance.records.consent import ConsentRegistry
registry = ConsentRegistry(engine)
lic = registry.grant(person_id="taylor-swift", granted_by="agent@example.com", scope="video")
engine.check("Taylor Swift skiing", consent=registry).consent_license_id == lic.id
"""

from governance.records.consent.models import (
    ConsentLicense,
    ConsentLicenseBase,
    ConsentLicenseCreate,
    ConsentLicensePublic,
    ProtectedName,
    ProtectedNameCreate,
    ProtectedNamePublic,
)
from governance.records.consent.registry import ConsentError, ConsentRegistry, scope_covers

__all__ = [
    "ConsentError",
    "ConsentLicense",
    "ConsentLicenseBase",
    "ConsentLicenseCreate",
    "ConsentLicensePublic",
    "ConsentRegistry",
    "ProtectedName",
    "ProtectedNameCreate",
    "ProtectedNamePublic",
    "scope_covers",
]
