"""What the two-factor routes check before their handlers run: the challenge token, and the
rate limits of each door where a code can be guessed."""

import uuid
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

#: The rate-limit action shared by every door that takes a code (sign-in, enable, disable, new
#: backup codes): guesses through any of them count together, per account.
CODE_ATTEMPTS = "two-factor-codes"


async def _count_code_attempt(settings: Settings, throttle: Throttle, user_id: uuid.UUID) -> None:
    await throttle.per_key(
        settings.rate_limit_two_factor_codes_per_account, CODE_ATTEMPTS, f"user:{user_id}"
    )


@dataclass(frozen=True, slots=True)
class ChallengeAttempt:
    claims: ChallengeClaims
    verification: Verification


@raises(InvalidTokenError)
async def challenge_attempt(
    verification: Verification, settings: SettingsDep, throttle: ThrottleDep
) -> ChallengeAttempt:
    """A try at the second step, with a valid challenge token: counted per challenge and per
    account before the code is compared."""
    claims = decode_challenge(settings, verification.mfa_token)
    await throttle.per_key(
        settings.rate_limit_two_factor_per_challenge,
        "two-factor-challenge",
        f"challenge:{claims.challenge_id}",
    )
    await _count_code_attempt(settings, throttle, claims.user_id)
    return ChallengeAttempt(claims, verification)


async def code_attempt(user: CurrentUser, settings: SettingsDep, throttle: ThrottleDep) -> None:
    """A signed-in user's try at a code, counted with the account's other tries."""
    await _count_code_attempt(settings, throttle, user.id)


async def setup_attempt(user: CurrentUser, settings: SettingsDep, throttle: ThrottleDep) -> None:
    await throttle.per_key(
        settings.rate_limit_two_factor_setup_per_account, "two-factor-setup", f"user:{user.id}"
    )


ChallengeAttemptDep = Annotated[ChallengeAttempt, Depends(challenge_attempt)]
