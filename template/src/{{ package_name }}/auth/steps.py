"""Sign-in steps: what sign-in needs, after the password, before it completes.

A feature registers a step (a second factor registers its challenge); `auth` asks the
registered steps in order and knows none of them. A step answers None to let sign-in go on, or
a challenge: the client then takes the step's own endpoint, with the challenge's token, to get
its tokens. A service without steps never answers a challenge.
"""

from typing import Annotated, Literal, Protocol, cast

from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.config import Settings
from ..users.models import User


class SignInChallenge(BaseModel):
    """Another factor is needed: sign-in goes on at the step's endpoint with this token."""

    mfa_required: Literal[True] = True
    mfa_token: str


class SignInStep(Protocol):
    async def __call__(
        self, db: AsyncSession, settings: Settings, user: User
    ) -> SignInChallenge | None: ...


async def get_sign_in_steps(request: Request) -> tuple[SignInStep, ...]:
    """The steps the app was created with (see `create_app`)."""
    return cast(tuple[SignInStep, ...], request.app.state.sign_in_steps)


SignInSteps = Annotated[tuple[SignInStep, ...], Depends(get_sign_in_steps)]
