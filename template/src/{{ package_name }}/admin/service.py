"""Superuser administration of accounts, and the audit trail's listing."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEvent, AuditEventType, AuditTrail, list_audit_events
from ..core.email import Outbox
from ..core.errors import AppError, ConflictError
from ..users.lifecycle import AccountLife
from ..users.models import User
from ..users.repository import UserRepository
from ..users.schemas import UserUpdate
from ..users.service import deactivate, delete_user
from .pagination import PageRequest


class UserNotFoundError(AppError):
    status_code = 404
    code = "user_not_found"
    message = "There is no user with this id."


class OwnAccountError(ConflictError):
    code = "own_account"
    message = (
        "Superusers cannot deactivate, demote or delete themselves here; "
        "ask another superuser, or use /users/me."
    )


async def get_user(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(db).get(user_id)
    if user is None:
        raise UserNotFoundError
    return user


async def list_users(db: AsyncSession, page: PageRequest) -> tuple[list[User], int]:
    return await UserRepository(db).page(offset=page.offset, limit=page.limit)


def _describe(changes: dict[str, Any]) -> str:
    """Flags with their new value; a name only, its value is not the trail's business."""
    return "changed " + ", ".join(
        f"{field}={value}" if isinstance(value, bool) else field
        for field, value in sorted(changes.items())
    )


async def update_user(
    db: AsyncSession,
    life: AccountLife,
    audit: AuditTrail,
    superuser: User,
    user_id: uuid.UUID,
    update: UserUpdate,
) -> User:
    """Change an account; deactivating it ends its sessions."""
    user = await get_user(db, user_id)
    changes = update.model_dump(exclude_unset=True)
    if user.id == superuser.id and (
        changes.get("is_active") is False or changes.get("is_superuser") is False
    ):
        raise OwnAccountError
    was_active = user.is_active
    for field, value in changes.items():
        setattr(user, field, value)
    if was_active and not user.is_active:
        await deactivate(db, life, user)
    if changes:
        audit.record(
            AuditEventType.USER_UPDATED_BY_SUPERUSER,
            user_id=user.id,
            actor_id=superuser.id,
            detail=_describe(changes),
        )
    return user


async def remove_user(
    db: AsyncSession,
    life: AccountLife,
    audit: AuditTrail,
    outbox: Outbox,
    superuser: User,
    user_id: uuid.UUID,
) -> None:
    user = await get_user(db, user_id)
    if user.id == superuser.id:
        raise OwnAccountError
    audit.record(AuditEventType.USER_DELETED_BY_SUPERUSER, user_id=user.id, actor_id=superuser.id)
    await delete_user(db, life, outbox, user)


async def list_events(
    db: AsyncSession, user_id: uuid.UUID | None, page: PageRequest
) -> tuple[list[AuditEvent], int]:
    return await list_audit_events(db, user_id=user_id, offset=page.offset, limit=page.limit)
