"""Imports every table model so ``SQLModel.metadata`` (and Alembic) know them all."""

from governance.records import apikeys, jobs  # noqa: F401
from governance.records.audit import models as audit_models  # noqa: F401
from governance.records.consent import models as consent_models  # noqa: F401
from governance.records.likeness import models as likeness_models  # noqa: F401
from governance.records.registry import models as registry_models  # noqa: F401
from governance.records.storage import records  # noqa: F401
