"""Imports every table model so ``SQLModel.metadata`` knows them all before ``create_all``."""

from governance.storage import records  # noqa: F401
from governance.audit import models as audit_models  # noqa: F401
