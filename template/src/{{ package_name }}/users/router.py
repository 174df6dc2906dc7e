"""Endpoints under /users/me: the signed-in user's own account."""

from fastapi import APIRouter, status

from ..core.audit import AuditEventType
from ..core.dependencies import AuditTrailDep, OutboxDep, SessionDep, SettingsDep, ThrottleDep
from .dependencies import CurrentUser
from .repository import UserRepository
from .schemas import PasswordConfirmation, ProfileUpdate, UserRead
from .service import confirm_password

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me")
async def update_me(update: ProfileUpdate, user: CurrentUser) -> UserRead:
    for field, value in update.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    return UserRead.model_validate(user)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(
    confirmation: PasswordConfirmation,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> None:
    """Delete the account for good; the password confirms it is really its owner asking."""
    await confirm_password(settings, throttle, user, confirmation.password)
    audit.record(AuditEventType.ACCOUNT_DELETED, user_id=user.id)
    outbox.send("account_deleted", user.email)
    await UserRepository(session).delete(user)
