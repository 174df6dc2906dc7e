"""Endpoints under /auth."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from ..core.audit import AuditEventType
from ..core.dependencies import (
    AuditTrailDep,
    OutboxDep,
    RedisDep,
    SessionDep,
    SettingsDep,
    ThrottleDep,
)
from ..core.revocation import revoke_access_token
from ..users.dependencies import AccessClaims, CurrentUser
from ..users.service import PASSWORD_ATTEMPTS, confirm_password, end_all_sessions, set_password
from . import service
from .schemas import (
    Accepted,
    Done,
    EmailAddress,
    EmailCode,
    LogoutRequest,
    PasswordChange,
    PasswordReset,
    RefreshRequest,
    Registration,
    TokenResponse,
)
from .sessions import TokenPair, end_session, find_session_id, rotate_session, start_session

router = APIRouter(prefix="/auth", tags=["auth"])

CHECK_YOUR_INBOX = Accepted(
    message="If the address can receive one, an email is on its way; check your inbox."
)


def _token_response(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access.token,
        refresh_token=pair.refresh_token,
        expires_in=pair.access.expires_in,
    )


@router.post("/register", status_code=status.HTTP_202_ACCEPTED)
async def register(
    registration: Registration,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    outbox: OutboxDep,
) -> Accepted:
    """Create an account; the answer is the same whether or not the address was free."""
    await throttle.per_ip(settings.rate_limit_register_per_ip, "register")
    await service.register(
        session,
        settings,
        outbox,
        throttle,
        email=registration.email,
        password=registration.password,
        full_name=registration.full_name,
    )
    return CHECK_YOUR_INBOX


@router.post("/verify-email")
async def verify_email(
    body: EmailCode, session: SessionDep, settings: SettingsDep, audit: AuditTrailDep
) -> Done:
    await service.verify_email(session, settings, audit, body.email, body.code)
    return Done(message="Your email address is verified.")


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(
    body: EmailAddress,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    outbox: OutboxDep,
) -> Accepted:
    await throttle.per_account(
        settings.rate_limit_verification_resend_per_email, "verification-resend", body.email
    )
    await service.resend_verification(session, settings, outbox, body.email)
    return CHECK_YOUR_INBOX


@router.post("/login")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    audit: AuditTrailDep,
) -> TokenResponse:
    """The OAuth2 password flow: `username` is the account's email."""
    await throttle.per_ip(settings.rate_limit_login_per_ip, "login")
    await throttle.per_account(
        settings.rate_limit_login_per_email, PASSWORD_ATTEMPTS, form.username
    )
    user = await service.authenticate(session, settings, audit, form.username, form.password)
    return _token_response(await start_session(session, settings, user))


@router.post("/refresh")
async def refresh(
    body: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    audit: AuditTrailDep,
) -> TokenResponse:
    """Exchange a refresh token for a new pair; the one presented is spent."""
    pair = await rotate_session(session, settings, redis, audit, body.refresh_token)
    return _token_response(pair)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    claims: AccessClaims,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    audit: AuditTrailDep,
    body: Annotated[LogoutRequest | None, Body()] = None,
) -> None:
    """End this session: its access token and its refresh tokens stop working at once."""
    await revoke_access_token(redis, claims)
    session_ids = {claims.session_id}
    if body is not None and body.refresh_token is not None:
        session_ids.add(await find_session_id(session, user, body.refresh_token))
    for session_id in filter(None, session_ids):
        await end_session(session, settings, redis, session_id)
    audit.record(AuditEventType.LOGOUT, user_id=user.id)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(user: CurrentUser, audit: AuditTrailDep) -> None:
    """End every session of the user, on every device."""
    end_all_sessions(user)
    audit.record(AuditEventType.LOGOUT_EVERYWHERE, user_id=user.id)


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(
    body: EmailAddress,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    outbox: OutboxDep,
) -> Accepted:
    await throttle.per_account(
        settings.rate_limit_password_forgot_per_email, "password-forgot", body.email
    )
    await service.forgot_password(session, settings, outbox, body.email)
    return CHECK_YOUR_INBOX


@router.post("/password/reset")
async def reset_password(
    body: PasswordReset,
    session: SessionDep,
    settings: SettingsDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> Done:
    """Choose a new password with an emailed code; every session ends."""
    await service.reset_password(
        session,
        settings,
        outbox,
        audit,
        email=body.email,
        code=body.code,
        new_password=body.new_password,
    )
    return Done(message="Your password is changed; sign in with it.")


@router.post("/password/change")
async def change_password(
    body: PasswordChange,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    audit: AuditTrailDep,
    outbox: OutboxDep,
) -> TokenResponse:
    """Change the password; every other session ends, this one goes on with the new pair."""
    await confirm_password(settings, throttle, user, body.current_password)
    await set_password(settings, user, body.new_password)
    audit.record(AuditEventType.PASSWORD_CHANGED, user_id=user.id)
    outbox.send("password_changed", user.email)
    return _token_response(await start_session(session, settings, user))
