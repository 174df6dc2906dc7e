"""Superuser administration: every account under /users, and the audit trail."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ..core.dependencies import AuditTrailDep, DbDep, OutboxDep
from ..core.openapi import raises
from ..users.dependencies import CurrentSuperuser
from ..users.lifecycle import AccountLifeDep
from ..users.schemas import UserRead, UserUpdate
from . import service
from .pagination import Page, PageRequestDep
from .schemas import AuditEventRead
from .service import OwnAccountError, UserNotFoundError

router = APIRouter(tags=["admin"])


@router.get("/users")
async def list_users(_: CurrentSuperuser, db: DbDep, page: PageRequestDep) -> Page[UserRead]:
    users, total = await service.list_users(db, page)
    return Page(items=[UserRead.model_validate(user) for user in users], total=total)


@router.get("/users/{user_id}")
@raises(UserNotFoundError)
async def read_user(user_id: uuid.UUID, _: CurrentSuperuser, db: DbDep) -> UserRead:
    return UserRead.model_validate(await service.get_user(db, user_id))


@router.patch("/users/{user_id}")
@raises(UserNotFoundError, OwnAccountError)
async def update_user(
    user_id: uuid.UUID,
    update: UserUpdate,
    superuser: CurrentSuperuser,
    db: DbDep,
    life: AccountLifeDep,
    audit: AuditTrailDep,
) -> UserRead:
    """Change an account; deactivating it ends its sessions."""
    user = await service.update_user(db, life, audit, superuser, user_id, update)
    return UserRead.model_validate(user)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
@raises(UserNotFoundError, OwnAccountError)
async def delete_user(
    user_id: uuid.UUID,
    superuser: CurrentSuperuser,
    db: DbDep,
    life: AccountLifeDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> None:
    await service.remove_user(db, life, audit, outbox, superuser, user_id)


@router.get("/audit-events")
async def list_events(
    _: CurrentSuperuser,
    db: DbDep,
    page: PageRequestDep,
    user_id: Annotated[uuid.UUID | None, Query(description="Only this user's events")] = None,
) -> Page[AuditEventRead]:
    """The security events, newest first."""
    events, total = await service.list_events(db, user_id, page)
    return Page(items=[AuditEventRead.model_validate(event) for event in events], total=total)
