"""Email verification and password reset codes: random digits, single use, short-lived, few
tries, and kept only as an HMAC."""

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.audit import AuditEventType, AuditTrail
from ..core.config import Settings
from ..core.db import utcnow
from ..core.errors import AppError
from ..users.models import User
from ..users.repository import UserRepository
from .models import OneTimeCode
from .repository import OneTimeCodeRepository

#: Stands in for the user where an address has no account that may use a code: the statements
#: run just the same, and find no code.
_NOBODY = uuid.UUID(int=0)


class CodePurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)


class InvalidCodeError(AppError):
    status_code = 400
    code = "invalid_code"
    message = "The code is wrong or has expired; ask for a new one."
    # The wrong try counts even though the request fails.
    keeps_changes = True


def generate_code(digits: int) -> str:
    """A code of `digits` digits from the operating system's CSPRNG, leading zeros kept."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_digest(settings: Settings, *parts: str) -> str:
    """The HMAC-SHA256 of a code and what it is bound to (its purpose, its user).

    The key is derived from SECRET_KEY, so a leaked table of digests cannot be brute-forced
    offline without it.
    """
    key = hmac.new(
        settings.secret_key.get_secret_value().encode(), b"one-time-codes", hashlib.sha256
    ).digest()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def _digest(settings: Settings, user_id: uuid.UUID, purpose: CodePurpose, code: str) -> str:
    return code_digest(settings, purpose.value, str(user_id), code)


async def issue_code(db: AsyncSession, settings: Settings, user: User, purpose: CodePurpose) -> str:
    """A fresh code for the user; the previous code of the same purpose dies."""
    # Two concurrent requests for the same user replace codes one after the other.
    await UserRepository(db).lock(user.id)
    code = generate_code(settings.code_digits)
    await OneTimeCodeRepository(db).replace(
        OneTimeCode(
            user_id=user.id,
            purpose=purpose.value,
            code_digest=_digest(settings, user.id, purpose, code),
            expires_at=utcnow() + timedelta(minutes=settings.code_expire_minutes),
        )
    )
    return code


async def redeem_code(
    db: AsyncSession,
    settings: Settings,
    audit: AuditTrail,
    user: User | None,
    purpose: CodePurpose,
    code: str,
) -> User:
    """Spend the user's code, or `InvalidCodeError`; `user` is None where the address has no
    account that may use one. The same statements run either way, and a wrong try is recorded
    either way, so the answer's time does not tell whether there was an account. Each try
    counts before the comparison; the code dies at its last wrong try, and when it is used."""
    user_id = user.id if user is not None else _NOBODY
    # The user's row first, as `issue_code` takes it: a code used while a new one replaces it
    # waits for it, instead of each holding what the other needs (the code, the user's row).
    # Taken for nobody too, so that both cases cost the same.
    await UserRepository(db).lock(user_id)
    codes = OneTimeCodeRepository(db)
    live = await codes.count_try(user_id, purpose.value, settings.code_max_attempts, utcnow())
    digest = _digest(settings, user_id, purpose, code)
    is_right = live is not None and hmac.compare_digest(live.code_digest, digest)
    if live is not None and (is_right or live.attempts >= settings.code_max_attempts):
        await codes.delete(live)
    if user is None or not is_right:
        refused_id = None if user is None else user.id
        audit.record(AuditEventType.CODE_REFUSED, user_id=refused_id, detail=purpose.value)
        raise InvalidCodeError
    return user
