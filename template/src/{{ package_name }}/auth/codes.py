"""Email verification and password reset codes: single use, short-lived, few tries."""

import hmac
from datetime import timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.codes import code_digest, generate_code
from ..core.config import Settings
from ..core.db import utcnow
from ..core.errors import AppError
from ..users.models import User
from .models import OneTimeCode


class CodePurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a password)


class InvalidCodeError(AppError):
    status_code = 400
    code = "invalid_code"
    message = "The code is wrong or has expired; ask for a new one."
    # The wrong try counts even though the request fails.
    keeps_changes = True


def _digest(settings: Settings, user: User, purpose: CodePurpose, code: str) -> str:
    return code_digest(settings, purpose.value, str(user.id), code)


async def issue_code(
    session: AsyncSession, settings: Settings, user: User, purpose: CodePurpose
) -> str:
    """A fresh code for the user; the previous code of the same purpose dies."""
    # Lock the user's row, so that two concurrent requests replace codes one after the other.
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    await session.execute(
        delete(OneTimeCode).where(
            OneTimeCode.user_id == user.id, OneTimeCode.purpose == purpose.value
        )
    )
    code = generate_code(settings.code_digits)
    session.add(
        OneTimeCode(
            user_id=user.id,
            purpose=purpose.value,
            code_digest=_digest(settings, user, purpose, code),
            expires_at=utcnow() + timedelta(minutes=settings.code_expire_minutes),
        )
    )
    await session.flush()
    return code


async def redeem_code(
    session: AsyncSession, settings: Settings, user: User, purpose: CodePurpose, code: str
) -> None:
    """Spend the user's code, or `InvalidCodeError`.

    Each try is counted before the code is compared, atomically, so that concurrent guesses
    cannot exceed the limit; the code dies at its last wrong try, and when it is used.
    """
    matches_user_code = (
        OneTimeCode.user_id == user.id,
        OneTimeCode.purpose == purpose.value,
    )
    counted = cast(
        CursorResult[Any],
        await session.execute(
            update(OneTimeCode)
            .where(
                *matches_user_code,
                OneTimeCode.attempts < settings.code_max_attempts,
                OneTimeCode.expires_at > utcnow(),
            )
            .values(attempts=OneTimeCode.attempts + 1)
        ),
    )
    if counted.rowcount != 1:
        raise InvalidCodeError
    # The update holds the row's lock until the transaction ends: it cannot change under us.
    live = (
        await session.scalars(
            select(OneTimeCode).where(*matches_user_code).execution_options(populate_existing=True)
        )
    ).one()
    is_right = hmac.compare_digest(live.code_digest, _digest(settings, user, purpose, code))
    if is_right or live.attempts >= settings.code_max_attempts:
        await session.delete(live)
        await session.flush()
    if not is_right:
        raise InvalidCodeError
