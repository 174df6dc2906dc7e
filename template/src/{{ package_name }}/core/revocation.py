"""Access tokens revoked before they expire: a denylist in Redis, checked on every request.

A token is denied by its own id (`jti`, at logout) or by its session (`sid`, when the session's
refresh family is revoked). Each entry lives only as long as the tokens it denies could.
"""

from datetime import timedelta

from redis.asyncio import Redis

from .config import Settings
from .db import utcnow
from .tokens import TokenClaims

_TOKEN_KEY = "revoked:token:{}"  # noqa: S105 (a Redis key pattern)
_SESSION_KEY = "revoked:session:{}"


async def revoke_access_token(redis: Redis, claims: TokenClaims) -> None:
    seconds_left = claims.expires_at - int(utcnow().timestamp())
    if seconds_left > 0:
        await redis.set(_TOKEN_KEY.format(claims.token_id), 1, ex=seconds_left)


async def revoke_session(redis: Redis, settings: Settings, session_id: str) -> None:
    """Deny every access token of a session: any of them expires within one access lifetime."""
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    await redis.set(_SESSION_KEY.format(session_id), 1, ex=lifetime)


async def is_revoked(redis: Redis, claims: TokenClaims) -> bool:
    keys = [_TOKEN_KEY.format(claims.token_id)]
    if claims.session_id is not None:
        keys.append(_SESSION_KEY.format(claims.session_id))
    return await redis.exists(*keys) > 0
