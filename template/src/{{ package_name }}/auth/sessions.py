"""Sign-in sessions: a short-lived access JWT and an opaque refresh token that rotates.

The refresh tokens a sign-in begets form a family, whose id the access tokens carry as `sid`.
Each refresh token is exchanged once. A token presented again means it was copied: the whole
family is revoked, and so are the access tokens it issued; only the live token's immediate
predecessor, presented again within the grace window (two tabs refreshing at once), is answered
409 and revokes nothing.
"""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEventType, AuditTrail
from ..core.config import Settings
from ..core.db import utcnow
from ..core.errors import AppError
from ..core.revocation import revoke_session
from ..core.tokens import InvalidTokenError, IssuedToken, TokenType, issue_token
from ..users.models import User
from ..users.repository import UserRepository
from .models import RefreshToken
from .repository import RefreshTokenRepository

logger = logging.getLogger(__name__)


class TokenReusedError(InvalidTokenError):
    code = "token_reused"
    message = "This refresh token was already used; the session has ended. Sign in again."
    # The family's revocation and its audit event must outlive the refusal.
    keeps_changes = True


class TokenAlreadyRotatedError(AppError):
    status_code = 409
    code = "token_already_rotated"
    message = (
        "This refresh token was exchanged by another request a moment ago; "
        "use the tokens that request received."
    )


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue_pair(
    db: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID
) -> TokenPair:
    refresh_token = secrets.token_urlsafe(32)
    await RefreshTokenRepository(db).add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_digest=_digest(refresh_token),
            token_version=user.token_version,
            expires_at=utcnow() + timedelta(days=settings.refresh_token_expire_days),
        )
    )
    access = issue_token(
        settings,
        subject=str(user.id),
        token_type=TokenType.ACCESS,
        version=user.token_version,
        lifetime=timedelta(minutes=settings.access_token_expire_minutes),
        session_id=str(family_id),
    )
    return TokenPair(access, refresh_token)


async def start_session(db: AsyncSession, settings: Settings, user: User) -> TokenPair:
    return await _issue_pair(db, settings, user, uuid.uuid4())


async def rotate_session(
    db: AsyncSession, settings: Settings, redis: Redis, audit: AuditTrail, token: str
) -> TokenPair:
    """Spend a refresh token for a new pair of the same session."""
    now = utcnow()
    tokens = RefreshTokenRepository(db)
    token_id = await tokens.id_by_digest(_digest(token))
    if token_id is None:
        raise InvalidTokenError
    claimed = await tokens.claim(token_id, now)
    stored = await tokens.get_locked(token_id)
    if stored is None:
        raise InvalidTokenError  # deleted with its user a moment ago
    if claimed:
        user = await UserRepository(db).get_signed_in(stored.user_id, stored.token_version)
        if user is None:
            raise InvalidTokenError
        return await _issue_pair(db, settings, user, stored.family_id)
    if stored.used_at is None or stored.revoked_at is not None:
        raise InvalidTokenError  # expired, or its session has ended
    grace = timedelta(seconds=settings.refresh_token_reuse_grace_seconds)
    # Two tabs refreshing at once present the live token's immediate predecessor, within the
    # grace window; a token spent before that one is reuse, however recent.
    if now - stored.used_at <= grace and not await tokens.spent_since(
        stored.family_id, stored.used_at
    ):
        raise TokenAlreadyRotatedError
    await tokens.revoke_family(stored.family_id)
    audit.record(AuditEventType.TOKEN_REUSE_DETECTED, user_id=stored.user_id)
    try:
        await revoke_session(redis, settings, str(stored.family_id))
    except (RedisConnectionError, RedisTimeoutError):
        # The revocation and its audit event are committed all the same; only the family's
        # access tokens live out their few minutes.
        logger.warning("reused refresh token: session revoked, its access tokens not denied")
    raise TokenReusedError


async def end_session(db: AsyncSession, settings: Settings, redis: Redis, session_id: str) -> None:
    """Revoke a session: its refresh tokens in the database, its access tokens in Redis."""
    await RefreshTokenRepository(db).revoke_family(uuid.UUID(session_id))
    await revoke_session(redis, settings, session_id)


async def find_session_id(db: AsyncSession, user: User, token: str) -> str | None:
    """The session a refresh token belongs to, if it is one of this user's."""
    family_id = await RefreshTokenRepository(db).family_of(_digest(token), user.id)
    return None if family_id is None else str(family_id)
