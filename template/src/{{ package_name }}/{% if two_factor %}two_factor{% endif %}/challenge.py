"""The second sign-in step: after the password, a user with two-factor on gets a challenge
instead of tokens, and its token (`mfa_token`) at POST /auth/2fa/verify.

The token is a JWT of its own type, signed like access tokens, for one user at their token
version (a new password or a sign-out everywhere voids it); its `jti` names a stored challenge,
which counts the tries, expires, and is spent once.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.steps import SignInChallenge
from ..core.config import Settings
from ..core.db import utcnow
from ..core.tokens import InvalidTokenError, TokenType, decode_token, issue_token
from ..users.models import User
from .models import SignInChallengeRecord
from .repository import TwoFactorRepository


async def challenge_second_factor(
    db: AsyncSession, settings: Settings, user: User
) -> SignInChallenge | None:
    """The sign-in step: a challenge for a user with two-factor on, None for anyone else."""
    repository = TwoFactorRepository(db)
    if await repository.enabled_credential(user.id) is None:
        return None
    lifetime = timedelta(minutes=settings.two_factor_challenge_expire_minutes)
    token = issue_token(
        settings,
        subject=str(user.id),
        token_type=TokenType.SIGN_IN_CHALLENGE,
        version=user.token_version,
        lifetime=lifetime,
    )
    await repository.add_challenge(
        SignInChallengeRecord(
            id=uuid.UUID(token.claims.token_id),
            user_id=user.id,
            expires_at=utcnow() + lifetime,
        )
    )
    return SignInChallenge(mfa_token=token.token)


@dataclass(frozen=True, slots=True)
class ChallengeClaims:
    challenge_id: uuid.UUID
    user_id: uuid.UUID
    #: The user's token version when the password was right.
    version: int


def decode_challenge(settings: Settings, token: str) -> ChallengeClaims:
    """The claims of a signed, unexpired challenge token; `InvalidTokenError` for anything else
    (an access token included)."""
    claims = decode_token(settings, token, TokenType.SIGN_IN_CHALLENGE)
    try:
        challenge_id = uuid.UUID(claims.token_id)
    except ValueError as exc:
        raise InvalidTokenError from exc
    return ChallengeClaims(challenge_id, claims.user_id, claims.version)
