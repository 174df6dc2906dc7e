"""Every table of the service, so that `Base.metadata` knows the whole schema.

Alembic compares this metadata with the database; each feature registers its models here.
"""

from .auth.models import OneTimeCode, RefreshToken
from .core.audit import AuditEvent
from .core.db import Base
from .users.models import User

__all__ = ["AuditEvent", "Base", "OneTimeCode", "RefreshToken", "User"]
