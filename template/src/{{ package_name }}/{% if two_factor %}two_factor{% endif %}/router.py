"""Endpoints of two-factor sign-in, under /auth/2fa, and its removal by a superuser."""

import uuid

from fastapi import APIRouter, Depends, status

from ..admin.service import UserNotFoundError
from ..auth.schemas import TokenResponse
from ..core.dependencies import AuditTrailDep, DbDep, OutboxDep, SettingsDep
from ..core.openapi import raises
from ..core.tokens import InvalidTokenError
from ..users.dependencies import CurrentSuperuser, CurrentUser, PasswordAttempt
from ..users.service import WrongPasswordError
from . import service
from .dependencies import ChallengeAttemptDep, CodeAttempt, setup_attempt
from .schemas import BackupCodes, Disabling, Setup, SetupRequest, TotpCode, TwoFactorStatus
from .service import (
    EmailNotVerifiedError,
    InvalidSecondFactorError,
    NoPendingSetupError,
    TwoFactorEnabledError,
    TwoFactorNotEnabledError,
)

PREFIX = "/auth/2fa"

router = APIRouter(tags=["two-factor"])


@router.get(PREFIX)
async def read_status(user: CurrentUser, db: DbDep) -> TwoFactorStatus:
    return await service.read_status(db, user)


@router.post(f"{PREFIX}/setup", dependencies=[Depends(setup_attempt), PasswordAttempt])
@raises(EmailNotVerifiedError, WrongPasswordError, TwoFactorEnabledError)
async def start_setup(
    body: SetupRequest, user: CurrentUser, db: DbDep, settings: SettingsDep
) -> Setup:
    """A new secret for the authenticator app; nothing is on until `/enable` confirms it."""
    return await service.start_setup(db, settings, user, body.password)


@router.post(f"{PREFIX}/enable", dependencies=[CodeAttempt])
@raises(NoPendingSetupError, InvalidSecondFactorError)
async def enable(
    body: TotpCode,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> BackupCodes:
    """Confirm the setup with a code from the app; the backup codes are shown this once."""
    codes = await service.enable(db, settings, audit, outbox, user, body.code)
    return BackupCodes(backup_codes=codes)


@router.post(f"{PREFIX}/verify")
@raises(InvalidTokenError, InvalidSecondFactorError)
async def verify(
    attempt: ChallengeAttemptDep,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> TokenResponse:
    """The second step of sign-in: the login's `mfa_token` with a code or a backup code."""
    pair = await service.verify_sign_in(
        db, settings, audit, outbox, attempt.claims, attempt.verification
    )
    return TokenResponse.of(pair)


@router.post(f"{PREFIX}/backup-codes", dependencies=[CodeAttempt])
@raises(TwoFactorNotEnabledError, InvalidSecondFactorError)
async def regenerate_backup_codes(
    body: TotpCode,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> BackupCodes:
    """A new set of backup codes for a code from the app; the old set stops working."""
    codes = await service.regenerate_backup_codes(db, settings, audit, outbox, user, body.code)
    return BackupCodes(backup_codes=codes)


@router.post(
    f"{PREFIX}/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[PasswordAttempt, CodeAttempt],
)
@raises(TwoFactorNotEnabledError, WrongPasswordError, InvalidSecondFactorError)
async def disable(
    body: Disabling,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> None:
    """Turn two-factor off with the password and a code; every session ends, this one too."""
    await service.disable(db, settings, audit, outbox, user, body.password, body)


@router.delete("/users/{user_id}/2fa", status_code=status.HTTP_204_NO_CONTENT)
@raises(UserNotFoundError, TwoFactorNotEnabledError)
async def remove(
    user_id: uuid.UUID,
    superuser: CurrentSuperuser,
    db: DbDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> None:
    """Account recovery, once the owner proved who they are: two-factor and every session of
    the account end."""
    await service.remove_for_superuser(db, audit, outbox, superuser, user_id)
