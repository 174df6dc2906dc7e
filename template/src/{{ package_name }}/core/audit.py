"""The audit trail: security events with when, who, from where; never a password, code or token.

Rows name the user by id without a foreign key, so that the trail outlives a deleted account.
"""

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .cleanup import Expired
from .config import Settings
from .db import Base, utcnow


class AuditEventType(StrEnum):
    """The events of the account system; a feature names its own in a StrEnum of its own."""

    LOGIN_SUCCEEDED = "login_succeeded"
    #: The password was right and a sign-in step asked for more: no tokens yet.
    SIGN_IN_CHALLENGED = "sign_in_challenged"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LOGOUT_EVERYWHERE = "logout_everywhere"
    TOKEN_REUSE_DETECTED = "token_reuse_detected"  # noqa: S105 (an event name)
    #: A wrong emailed code (verification or reset), with or without an account behind it.
    CODE_REFUSED = "code_refused"
    EMAIL_VERIFIED = "email_verified"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an event name)
    PASSWORD_RESET = "password_reset"  # noqa: S105 (an event name)
    ACCOUNT_DELETED = "account_deleted"
    USER_UPDATED_BY_SUPERUSER = "user_updated_by_superuser"
    USER_DELETED_BY_SUPERUSER = "user_deleted_by_superuser"


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(64))
    #: Whom the event concerns; None for a failed sign-in with an unknown email.
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    #: Who acted, when it is someone else than the user: a superuser.
    actor_id: Mapped[uuid.UUID | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    #: A short, secret-free note: why a sign-in failed, which fields a superuser changed.
    detail: Mapped[str | None] = mapped_column(String(255))


class AuditTrail:
    """Records the events of one request, in its transaction, with its client's address."""

    def __init__(self, db: AsyncSession, ip_address: str, user_agent: str | None) -> None:
        self.db = db
        self.ip_address = ip_address
        self.user_agent = user_agent

    def record(
        self,
        event: StrEnum,
        *,
        user_id: uuid.UUID | None,
        actor_id: uuid.UUID | None = None,
        detail: str | None = None,
    ) -> None:
        self.db.add(
            AuditEvent(
                event=event.value,
                user_id=user_id,
                actor_id=actor_id,
                ip_address=self.ip_address,
                user_agent=self.user_agent,
                detail=detail,
            )
        )


async def list_audit_events(
    db: AsyncSession, *, user_id: uuid.UUID | None, offset: int, limit: int
) -> tuple[list[AuditEvent], int]:
    """A page of events, newest first, and how many there are in all."""
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    page = await db.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id).offset(offset).limit(limit)
    )
    return list(page), total or 0


def expired_audit_events(settings: Settings, now: datetime) -> list[Expired]:
    """The audit trail's clean-up: events older than AUDIT_RETENTION_DAYS."""
    oldest_kept = now - timedelta(days=settings.audit_retention_days)
    return [Expired("audit_events", delete(AuditEvent).where(AuditEvent.occurred_at < oldest_kept))]
