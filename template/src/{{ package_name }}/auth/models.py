"""What sign-in keeps server-side: refresh tokens (as digests) and one-time codes (as HMACs)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, utcnow


class RefreshToken(Base):
    """One refresh token; the tokens a sign-in begets by rotation share its `family_id`."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: The sign-in session; access tokens carry it as `sid`.
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    #: SHA-256 of the token: it has 256 random bits, so no salt or slow hash is needed.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The user's token version at issue; a bump (logout everywhere, new password) voids it.
    token_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    #: Set when the token is exchanged for a new pair; a second use is reuse.
    used_at: Mapped[datetime | None]
    #: Set on every token of the family at logout or when reuse is detected.
    revoked_at: Mapped[datetime | None]


class OneTimeCode(Base):
    """The live code of one purpose for one user; issuing a new one replaces it."""

    __tablename__ = "one_time_codes"
    __table_args__ = (UniqueConstraint("user_id", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    code_digest: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
