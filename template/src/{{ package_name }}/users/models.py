"""The user account."""

import uuid

from sqlalchemy import String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, TimestampMixin

#: RFC 5321 caps an address at 254 characters in practice; 320 leaves room for odd ones.
EMAIL_MAX_LENGTH = 320
#: Compared exactly, as the service spells addresses (`identity.normalize_email`): MySQL's
#: default collations would match "exámple" to "example", behind the rate limits' back.
EMAIL_TYPE = String(EMAIL_MAX_LENGTH).with_variant(
    mysql.VARCHAR(EMAIL_MAX_LENGTH, collation="utf8mb4_bin"), "mysql", "mariadb"
)


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: Stored as `normalize_email` spells it, so that one mailbox is one account.
    email: Mapped[str] = mapped_column(EMAIL_TYPE, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_verified: Mapped[bool] = mapped_column(default=False)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    #: Part of every token; bumping it revokes every token the user holds.
    token_version: Mapped[int] = mapped_column(default=0)
