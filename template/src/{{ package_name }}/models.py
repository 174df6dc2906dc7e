"""Every table of the service, so that `Base.metadata` knows the whole schema.

Alembic compares this metadata with the database; each feature registers its models here.
"""

from .core.db import Base
from .users.models import User

__all__ = ["Base", "User"]
