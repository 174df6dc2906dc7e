"""Endpoints under /auth: each translates HTTP to one call of the service and back."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from ..core.dependencies import (
    AfterResponseDep,
    AuditTrailDep,
    DbDep,
    OutboxDep,
    RedisDep,
    SettingsDep,
)
from ..core.openapi import raises
from ..core.passwords import hash_password
from ..core.tokens import InvalidTokenError
from ..users.dependencies import AccessClaims, CurrentUser, PasswordAttempt
from ..users.lifecycle import AccountLifeDep
from ..users.service import WeakPasswordError, WrongPasswordError, check_password_policy
from . import service
from .codes import InvalidCodeError
from .dependencies import (
    LoginAttempt,
    PasswordForgotten,
    RegistrationAttemptDep,
    VerificationResend,
    code_attempt,
)
from .schemas import (
    Accepted,
    Done,
    EmailCode,
    LogoutRequest,
    PasswordChange,
    PasswordReset,
    RefreshRequest,
    TokenResponse,
)
from .service import EmailNotVerifiedError, InactiveUserError, InvalidCredentialsError
from .sessions import TokenAlreadyRotatedError, TokenReusedError, rotate_session
from .steps import SignInChallenge, SignInSteps

router = APIRouter(prefix="/auth", tags=["auth"])

CHECK_YOUR_INBOX = Accepted(
    message="If the address can receive one, an email is on its way; check your inbox."
)


@router.post("/register", status_code=status.HTTP_202_ACCEPTED)
@raises(WeakPasswordError)
async def register(
    attempt: RegistrationAttemptDep,
    settings: SettingsDep,
    life: AccountLifeDep,
    later: AfterResponseDep,
) -> Accepted:
    """Create an account; answered before the address is looked up, the same whether or not it
    was free (only what does not depend on it comes first: the password policy, and the hash,
    whose cost holds the answer back as the work it promises does)."""
    registration = attempt.registration
    check_password_policy(settings, registration.password, registration.email)
    password_hash = await hash_password(registration.password)
    later.run(service.register, life, registration, password_hash, attempt.may_notify_owner)
    return CHECK_YOUR_INBOX


@router.post("/verify-email", dependencies=[Depends(code_attempt)])
@raises(InvalidCodeError)
async def verify_email(
    body: EmailCode, db: DbDep, settings: SettingsDep, audit: AuditTrailDep
) -> Done:
    await service.verify_email(db, settings, audit, body.email, body.code)
    return Done(message="Your email address is verified.")


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(body: VerificationResend, later: AfterResponseDep) -> Accepted:
    """Answered before the account is looked up: the answer's time tells nothing either."""
    later.run(service.resend_verification, body.email)
    return CHECK_YOUR_INBOX


@router.post("/login")
@raises(InvalidCredentialsError, InactiveUserError, EmailNotVerifiedError)
async def login(
    form: LoginAttempt,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    steps: SignInSteps,
) -> TokenResponse | SignInChallenge:
    """The OAuth2 password flow: `username` is the account's email. A registered sign-in step
    may answer a challenge instead of tokens."""
    result = await service.sign_in(db, settings, audit, steps, form.username, form.password)
    return result if isinstance(result, SignInChallenge) else TokenResponse.of(result)


@router.post("/refresh")
@raises(InvalidTokenError, TokenReusedError, TokenAlreadyRotatedError)
async def refresh(
    body: RefreshRequest,
    db: DbDep,
    settings: SettingsDep,
    redis: RedisDep,
    audit: AuditTrailDep,
) -> TokenResponse:
    """Exchange a refresh token for a new pair; the one presented is spent."""
    return TokenResponse.of(await rotate_session(db, settings, redis, audit, body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    claims: AccessClaims,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    redis: RedisDep,
    audit: AuditTrailDep,
    body: Annotated[LogoutRequest | None, Body()] = None,
) -> None:
    """End this session: its access token and its refresh tokens stop working at once."""
    refresh_token = body.refresh_token if body is not None else None
    await service.log_out(db, settings, redis, audit, claims, user, refresh_token)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(user: CurrentUser, audit: AuditTrailDep) -> None:
    """End every session of the user, on every device."""
    service.log_out_everywhere(audit, user)


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(body: PasswordForgotten, later: AfterResponseDep) -> Accepted:
    """Answered before the account is looked up: the answer's time tells nothing either."""
    later.run(service.forgot_password, body.email)
    return CHECK_YOUR_INBOX


@router.post("/password/reset", dependencies=[Depends(code_attempt)])
@raises(InvalidCodeError, WeakPasswordError)
async def reset_password(
    body: PasswordReset,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> Done:
    """Choose a new password with an emailed code; every session ends."""
    await service.reset_password(
        db,
        settings,
        outbox,
        audit,
        email=body.email,
        code=body.code,
        new_password=body.new_password,
    )
    return Done(message="Your password is changed; sign in with it.")


@router.post("/password/change", dependencies=[PasswordAttempt])
@raises(WrongPasswordError, WeakPasswordError)
async def change_password(
    body: PasswordChange,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> TokenResponse:
    """Change the password; every other session ends, this one goes on with the new pair."""
    pair = await service.change_password(
        db,
        settings,
        audit,
        outbox,
        user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return TokenResponse.of(pair)
