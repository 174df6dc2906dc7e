"""Two-factor sign-in: setting it up, signing in with it, recovering with backup codes, and
turning it off. Every code is claimed once (see `repository.py`); every change is audited and
the user is told by email."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..admin.service import get_user
from ..auth.sessions import TokenPair, start_session
from ..core.audit import AuditEventType, AuditTrail
from ..core.config import Settings
from ..core.db import utcnow
from ..core.email import Outbox
from ..core.errors import AppError, ConflictError
from ..core.tokens import InvalidTokenError
from ..users.models import User
from ..users.repository import UserRepository
from ..users.service import confirm_password, end_all_sessions
from . import backup_codes, totp
from .challenge import ChallengeClaims
from .events import TwoFactorEvent
from .models import TotpCredential
from .repository import TwoFactorRepository
from .schemas import SecondFactor, Setup, TwoFactorStatus
from .secret_box import SecretBox


class InvalidSecondFactorError(AppError):
    status_code = 400
    code = "invalid_code"
    message = "The code is wrong, or was already used."
    # The try stays counted, and its audit event recorded.
    keeps_changes = True


class EmailNotVerifiedError(AppError):
    status_code = 403
    code = "email_not_verified"
    message = "Verify your email address before you set up two-factor sign-in."


class TwoFactorEnabledError(ConflictError):
    code = "two_factor_enabled"
    message = "Two-factor sign-in is already on; turn it off first to set up another app."


class TwoFactorNotEnabledError(ConflictError):
    code = "two_factor_not_enabled"
    message = "Two-factor sign-in is not on for this account."


class NoSuchAccountError(AppError):
    status_code = 404
    code = "user_not_found"
    message = "There is no account with this email."


class NoPendingSetupError(ConflictError):
    code = "no_pending_setup"
    message = "There is no setup to confirm, or it has expired; start a new one."


async def read_status(db: AsyncSession, user: User) -> TwoFactorStatus:
    repository = TwoFactorRepository(db)
    enabled = await repository.enabled_credential(user.id) is not None
    left = await repository.backup_codes_left(user.id) if enabled else 0
    return TwoFactorStatus(enabled=enabled, backup_codes_left=left)


async def start_setup(db: AsyncSession, settings: Settings, user: User, password: str) -> Setup:
    """A new secret, waiting for a code from the app; nothing is on until `enable`."""
    if not user.is_verified:
        raise EmailNotVerifiedError
    await confirm_password(user, password)
    # Two setups at once replace each other in turn instead of colliding.
    await UserRepository(db).lock(user.id)
    repository = TwoFactorRepository(db)
    if await repository.enabled_credential(user.id) is not None:
        raise TwoFactorEnabledError
    secret = totp.new_secret()
    await repository.replace_setup(
        TotpCredential(
            user_id=user.id,
            encrypted_secret=SecretBox(settings).encrypt(secret),
            setup_expires_at=utcnow() + timedelta(minutes=settings.two_factor_setup_expire_minutes),
        )
    )
    uri = totp.provisioning_uri(secret, user.email, settings.two_factor_issuer)
    return Setup(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg_data_uri(uri))


async def enable(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    code: str,
) -> list[str]:
    """Confirm the setup with a code from the app: two-factor is on; the backup codes."""
    await UserRepository(db).lock(user.id)
    repository = TwoFactorRepository(db)
    credential = await repository.pending_setup(user.id, utcnow())
    if credential is None:
        raise NoPendingSetupError
    await _check_code(repository, settings, audit, credential, code, door="enable")
    credential.enabled_at = utcnow()
    credential.setup_expires_at = None
    codes = await _new_backup_codes(repository, settings, user)
    audit.record(TwoFactorEvent.ENABLED, user_id=user.id)
    outbox.send("two_factor_enabled", user.email)
    return codes


async def verify_sign_in(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    claims: ChallengeClaims,
    factor: SecondFactor,
) -> TokenPair:
    """The second step of sign-in: the challenge's try is counted, then the code claimed."""
    repository = TwoFactorRepository(db)
    max_attempts = settings.two_factor_challenge_max_attempts
    challenge = await repository.count_try(
        claims.challenge_id, claims.user_id, max_attempts, utcnow()
    )
    if challenge is None:
        raise InvalidTokenError
    # A new password, a sign-out everywhere or two-factor turned off void the challenge.
    user = await UserRepository(db).get_signed_in(claims.user_id, claims.version)
    credential = await repository.enabled_credential(claims.user_id)
    if user is None or credential is None:
        raise InvalidTokenError
    try:
        await _check_second_factor(
            repository, settings, audit, outbox, user, credential, factor, door="sign-in"
        )
    except InvalidSecondFactorError:
        if challenge.attempts >= max_attempts:
            audit.record(TwoFactorEvent.CHALLENGE_EXHAUSTED, user_id=user.id)
            _warn(outbox, user, challenge.attempts)
        raise
    await repository.spend_challenge(challenge.id, utcnow())
    audit.record(AuditEventType.LOGIN_SUCCEEDED, user_id=user.id, detail="second factor")
    return await start_session(db, settings, user)


async def regenerate_backup_codes(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    code: str,
) -> list[str]:
    """A new set of backup codes for a code from the app; the old set dies."""
    await UserRepository(db).lock(user.id)
    repository = TwoFactorRepository(db)
    credential = await _enabled(repository, user)
    await _check_code(repository, settings, audit, credential, code, door="backup codes")
    codes = await _new_backup_codes(repository, settings, user)
    audit.record(TwoFactorEvent.BACKUP_CODES_REGENERATED, user_id=user.id)
    outbox.send("two_factor_backup_codes_regenerated", user.email)
    return codes


async def disable(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    password: str,
    factor: SecondFactor,
) -> None:
    """Turn two-factor off with the password and a code; every session of the user ends."""
    repository = TwoFactorRepository(db)
    credential = await _enabled(repository, user)
    await confirm_password(user, password)
    await _check_second_factor(
        repository, settings, audit, outbox, user, credential, factor, door="disable"
    )
    await _turn_off(repository, audit, outbox, user, TwoFactorEvent.DISABLED)


async def remove_for_superuser(
    db: AsyncSession, audit: AuditTrail, outbox: Outbox, superuser: User, user_id: uuid.UUID
) -> None:
    """Account recovery by a superuser, once the owner proved who they are out of band."""
    user = await get_user(db, user_id)
    await _remove(audit, outbox, TwoFactorRepository(db), user, superuser.id, "by a superuser")


async def remove_for_operator(
    db: AsyncSession, audit: AuditTrail, outbox: Outbox, email: str
) -> None:
    """Account recovery from the command line."""
    user = await UserRepository(db).get_by_email(email)
    if user is None:
        raise NoSuchAccountError
    await _remove(audit, outbox, TwoFactorRepository(db), user, None, "by an operator command")


async def rotate_encryption_key(db: AsyncSession, settings: Settings) -> int:
    """Re-encrypt every stored secret with the current key; how many there were."""
    box = SecretBox(settings)
    credentials = await TwoFactorRepository(db).all_credentials()
    for credential in credentials:
        credential.encrypted_secret = box.rotate(credential.encrypted_secret)
    return len(credentials)


async def _enabled(repository: TwoFactorRepository, user: User) -> TotpCredential:
    credential = await repository.enabled_credential(user.id)
    if credential is None:
        raise TwoFactorNotEnabledError
    return credential


async def _check_code(
    repository: TwoFactorRepository,
    settings: Settings,
    audit: AuditTrail,
    credential: TotpCredential,
    code: str,
    *,
    door: str,
) -> None:
    """Claim the time step of a code from the app, or `InvalidSecondFactorError`."""
    secret = SecretBox(settings).decrypt(credential.encrypted_secret)
    step = totp.matching_step(secret, code, utcnow())
    if step is None or not await repository.claim_step(credential.user_id, step):
        audit.record(TwoFactorEvent.CODE_REFUSED, user_id=credential.user_id, detail=door)
        raise InvalidSecondFactorError


async def _check_second_factor(
    repository: TwoFactorRepository,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    credential: TotpCredential,
    factor: SecondFactor,
    *,
    door: str,
) -> None:
    """Claim a code from the app, or spend a backup code (the user is told)."""
    if factor.backup_code is not None:
        await _spend_backup_code(repository, settings, audit, outbox, user, factor.backup_code)
    elif factor.code is not None:
        await _check_code(repository, settings, audit, credential, factor.code, door=door)


async def _spend_backup_code(
    repository: TwoFactorRepository,
    settings: Settings,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    code: str,
) -> None:
    digests = backup_codes.possible_digests(SecretBox(settings), user.id, code)
    if not await repository.claim_backup_code(user.id, digests, utcnow()):
        audit.record(TwoFactorEvent.CODE_REFUSED, user_id=user.id, detail="backup code")
        raise InvalidSecondFactorError
    left = await repository.backup_codes_left(user.id)
    audit.record(TwoFactorEvent.BACKUP_CODE_USED, user_id=user.id, detail=f"{left} left")
    outbox.send("two_factor_backup_code_used", user.email, codes_left=left)


async def _remove(
    audit: AuditTrail,
    outbox: Outbox,
    repository: TwoFactorRepository,
    user: User,
    actor_id: uuid.UUID | None,
    detail: str,
) -> None:
    """Two-factor goes, with every session; the user is told."""
    await _enabled(repository, user)
    await _turn_off(repository, audit, outbox, user, TwoFactorEvent.REMOVED, actor_id, detail)


def _warn(outbox: Outbox, user: User, attempts: int) -> None:
    """Tell the user their password got someone to the second step, who failed it. The answer
    is an error that keeps its changes, so the mail still goes, after the commit."""
    outbox.send("two_factor_sign_in_failed", user.email, attempts=attempts)


async def _new_backup_codes(
    repository: TwoFactorRepository, settings: Settings, user: User
) -> list[str]:
    codes = backup_codes.generate()
    box = SecretBox(settings)
    await repository.replace_backup_codes(
        user.id, [backup_codes.digest(box, user.id, code) for code in codes]
    )
    return codes


async def _turn_off(
    repository: TwoFactorRepository,
    audit: AuditTrail,
    outbox: Outbox,
    user: User,
    event: TwoFactorEvent,
    actor_id: uuid.UUID | None = None,
    detail: str | None = None,
) -> None:
    await repository.remove(user.id)
    end_all_sessions(user)
    audit.record(event, user_id=user.id, actor_id=actor_id, detail=detail)
    outbox.send("two_factor_disabled", user.email)
