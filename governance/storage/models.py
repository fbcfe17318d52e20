"""Imports every table model so ``SQLModel.metadata`` (and Alembic) know them all."""

from governance.storage import records  # noqa: F401
from governance.audit import models as audit_models  # noqa: F401
from governance.api import models as api_models  # noqa: F401  (API keys + jobs)
from governance.registry import models as registry_models  # noqa: F401
from governance.consent import models as consent_models  # noqa: F401
