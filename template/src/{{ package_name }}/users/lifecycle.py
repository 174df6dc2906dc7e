"""Account life: creating, deactivating and deleting an account are announced, inside the
transaction that does it, to whoever registered for them; `users` knows none of them.

A listener that raises refuses the change, and the transaction rolls back with everything the
listeners did (a feature whose records an account owns can refuse to let the owner go).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User

AccountListener = Callable[[AsyncSession, User], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AccountLife:
    """The listeners of each moment in an account's life, called in order."""

    created: tuple[AccountListener, ...] = ()
    deactivated: tuple[AccountListener, ...] = ()
    deleting: tuple[AccountListener, ...] = ()


async def announce(listeners: tuple[AccountListener, ...], db: AsyncSession, user: User) -> None:
    for listener in listeners:
        await listener(db, user)


async def get_account_life(request: Request) -> AccountLife:
    """The listeners the app was created with (see `create_app`)."""
    return cast(AccountLife, request.app.state.account_life)


AccountLifeDep = Annotated[AccountLife, Depends(get_account_life)]
