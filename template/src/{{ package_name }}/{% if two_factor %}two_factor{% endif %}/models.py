"""What two-factor sign-in keeps: an encrypted TOTP secret per user, backup codes as HMACs, and
the challenges of sign-ins waiting for their second step."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, utcnow


class TotpCredential(Base):
    """A user's authenticator: set up (pending until a code confirms it), then enabled."""

    __tablename__ = "two_factor_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: The base32 secret, encrypted (`secret_box.SecretBox`): the database alone reveals nothing.
    encrypted_secret: Mapped[str] = mapped_column(String(255))
    #: None while the setup waits for its confirming code.
    enabled_at: Mapped[datetime | None]
    #: When an unconfirmed setup is dropped; None once enabled.
    setup_expires_at: Mapped[datetime | None]
    #: The time step of the last accepted code: a code is never accepted twice.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BackupCode(Base):
    """One single-use backup code, kept as an HMAC keyed with the encryption key."""

    __tablename__ = "two_factor_backup_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInChallengeRecord(Base):
    """A sign-in past its password, waiting for its second factor; its id is the token's `jti`."""

    __tablename__ = "two_factor_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: Counted before each code is compared: concurrent guesses cannot pass the limit.
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
