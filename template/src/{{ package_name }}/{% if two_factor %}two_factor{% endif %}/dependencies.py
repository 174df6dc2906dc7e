"""What the two-factor routes check before their handlers run: the challenge token, and the
rate limits of each door where a code can be guessed."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from ..core.config import Settings
from ..core.dependencies import SettingsDep, ThrottleDep
from ..core.openapi import raises
from ..core.ratelimit import Throttle
from ..core.tokens import InvalidTokenError
from ..users.dependencies import CurrentUser
from .challenge import ChallengeClaims, decode_challenge
from .schemas import Verification
from .service import InvalidSecondFactorError

#: The rate-limit action shared by every door that takes a code (sign-in, enable, disable, new
#: backup codes): wrong guesses through any of them count together, per account.
CODE_ATTEMPTS = "two-factor-codes"


def _code_guess(
    settings: Settings, throttle: Throttle, user_id: uuid.UUID
) -> AbstractAsyncContextManager[None]:
    """A code checked within the block: it stays counted when it was wrong."""
    return throttle.guessing(
        settings.rate_limit_two_factor_codes_per_account,
        CODE_ATTEMPTS,
        f"user:{user_id}",
        InvalidSecondFactorError,
    )


@dataclass(frozen=True, slots=True)
class ChallengeAttempt:
    claims: ChallengeClaims
    verification: Verification


@raises(InvalidTokenError)
async def challenge_attempt(
    verification: Verification, settings: SettingsDep, throttle: ThrottleDep
) -> AsyncIterator[ChallengeAttempt]:
    """A try at the second step, with a valid challenge token: counted per challenge (which the
    first right code spends), and per account while the code is compared."""
    claims = decode_challenge(settings, verification.mfa_token)
    await throttle.per_key(
        settings.rate_limit_two_factor_per_challenge,
        "two-factor-challenge",
        f"challenge:{claims.challenge_id}",
    )
    async with _code_guess(settings, throttle, claims.user_id):
        yield ChallengeAttempt(claims, verification)


async def code_attempt(
    user: CurrentUser, settings: SettingsDep, throttle: ThrottleDep
) -> AsyncIterator[None]:
    """A signed-in user's try at a code, counted with the account's other tries."""
    async with _code_guess(settings, throttle, user.id):
        yield


async def setup_attempt(user: CurrentUser, settings: SettingsDep, throttle: ThrottleDep) -> None:
    await throttle.per_key(
        settings.rate_limit_two_factor_setup_per_account, "two-factor-setup", f"user:{user.id}"
    )


#: The function scope gives a right code's guess back before the answer is sent.
ChallengeAttemptDep = Annotated[ChallengeAttempt, Depends(challenge_attempt, scope="function")]
#: For a route that checks a code of the signed-in user's, in its `dependencies`.
CodeAttempt = Depends(code_attempt, scope="function")
