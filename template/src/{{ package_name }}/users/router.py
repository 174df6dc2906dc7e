"""Endpoints under /users/me: the signed-in user's own account."""

from fastapi import APIRouter, status

from ..core.dependencies import AuditTrailDep, DbDep, OutboxDep, ReadDbDep
from ..core.openapi import raises
from . import service
from .dependencies import AccessClaims, CurrentUser, PasswordAttempt
from .lifecycle import AccountLifeDep
from .profile import Profile
from .schemas import PasswordConfirmation, ProfileUpdate, UserRead
from .service import WrongPasswordError


def create_router(profile: Profile) -> APIRouter:
    """The routes of /users/me, answering the profile with the fields of its sections."""
    router = APIRouter(prefix="/users", tags=["users"])

    @router.get("/me", response_model=profile.schema)
    async def read_me(claims: AccessClaims, db: ReadDbDep) -> UserRead:
        # The profile is read under `current_user`'s rule, in one statement: it needs no
        # transaction of its own (`ReadDbDep`).
        return await profile.of(db, claims.user_id, claims.version)

    @router.patch("/me", response_model=profile.schema)
    async def update_me(update: ProfileUpdate, user: CurrentUser, db: DbDep) -> UserRead:
        return await service.update_profile(db, profile, user, update)

    @router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, dependencies=[PasswordAttempt])
    @raises(WrongPasswordError)
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

    return router
