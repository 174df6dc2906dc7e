"""Endpoints under /users/me: the signed-in user's own account."""

from fastapi import APIRouter, Depends, status

from ..core.dependencies import AuditTrailDep, DbDep, OutboxDep
from . import service
from .dependencies import CurrentUser, password_attempt
from .lifecycle import AccountLifeDep
from .schemas import PasswordConfirmation, ProfileUpdate, UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me")
async def update_me(update: ProfileUpdate, user: CurrentUser) -> UserRead:
    return UserRead.model_validate(service.update_profile(user, update))


@router.delete(
    "/me", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(password_attempt)]
)
async def delete_me(
    confirmation: PasswordConfirmation,
    user: CurrentUser,
    db: DbDep,
    life: AccountLifeDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> None:
    """Delete the account for good; the password confirms it is really its owner asking."""
    await service.delete_account(db, life, audit, outbox, user, confirmation.password)
