"""Superuser administration: every account under /users, and the audit trail."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEventType, list_audit_events
from ..core.dependencies import AuditTrailDep, OutboxDep, SessionDep
from ..core.errors import AppError, ConflictError
from ..core.pagination import Page, PageRequestDep
from ..users.dependencies import CurrentSuperuser
from ..users.models import User
from ..users.repository import UserRepository
from ..users.schemas import UserRead, UserUpdate
from ..users.service import end_all_sessions
from .schemas import AuditEventRead

router = APIRouter(tags=["admin"])


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


async def _get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise UserNotFoundError
    return user


@router.get("/users")
async def list_users(
    _: CurrentSuperuser, session: SessionDep, page: PageRequestDep
) -> Page[UserRead]:
    users, total = await UserRepository(session).page(offset=page.offset, limit=page.limit)
    return Page(items=[UserRead.model_validate(user) for user in users], total=total)


@router.get("/users/{user_id}")
async def read_user(user_id: uuid.UUID, _: CurrentSuperuser, session: SessionDep) -> UserRead:
    return UserRead.model_validate(await _get_user(session, user_id))


@router.patch("/users/{user_id}")
async def update_user(
    user_id: uuid.UUID,
    update: UserUpdate,
    superuser: CurrentSuperuser,
    session: SessionDep,
    audit: AuditTrailDep,
) -> UserRead:
    """Change an account; deactivating it ends its sessions."""
    user = await _get_user(session, user_id)
    changes = update.model_dump(exclude_unset=True)
    if user.id == superuser.id and (
        changes.get("is_active") is False or changes.get("is_superuser") is False
    ):
        raise OwnAccountError
    for field, value in changes.items():
        setattr(user, field, value)
    if changes.get("is_active") is False:
        end_all_sessions(user)
    if changes:
        audit.record(
            AuditEventType.USER_UPDATED_BY_SUPERUSER,
            user_id=user.id,
            actor_id=superuser.id,
            # Flags with their new value; a name only, its value is not the trail's business.
            detail="changed "
            + ", ".join(
                f"{field}={value}" if isinstance(value, bool) else field
                for field, value in sorted(changes.items())
            ),
        )
    return UserRead.model_validate(user)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(
    user_id: uuid.UUID,
    superuser: CurrentSuperuser,
    session: SessionDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> None:
    user = await _get_user(session, user_id)
    if user.id == superuser.id:
        raise OwnAccountError
    audit.record(AuditEventType.USER_DELETED_BY_SUPERUSER, user_id=user.id, actor_id=superuser.id)
    outbox.send("account_deleted", user.email)
    await UserRepository(session).delete(user)


@router.get("/audit-events")
async def list_events(
    _: CurrentSuperuser,
    session: SessionDep,
    page: PageRequestDep,
    user_id: Annotated[uuid.UUID | None, Query(description="Only this user's events")] = None,
) -> Page[AuditEventRead]:
    """The security events, newest first."""
    events, total = await list_audit_events(
        session, user_id=user_id, offset=page.offset, limit=page.limit
    )
    return Page(items=[AuditEventRead.model_validate(event) for event in events], total=total)
