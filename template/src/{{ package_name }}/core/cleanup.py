"""Clean-up: each domain declares the rows it deletes once they have expired; the worker's
schedule, or the `clean-up` command where there is no worker, runs them all in one transaction.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .config import Settings


@dataclass(frozen=True, slots=True)
class Expired:
    """Rows that have expired, by what they are (a table's name) and the statement that deletes
    them."""

    name: str
    statement: Delete


#: A domain's declaration: given the settings and the moment, what of it has expired.
ExpiryRule = Callable[[Settings, datetime], Iterable[Expired]]


def _expired(rules: Iterable[ExpiryRule], settings: Settings, now: datetime) -> list[Expired]:
    return [expired for rule in rules for expired in rule(settings, now)]


async def delete_expired(
    db: AsyncSession, settings: Settings, rules: Iterable[ExpiryRule], now: datetime
) -> Mapping[str, int]:
    """Run every rule in the caller's transaction; how many rows each deleted."""
    return {
        expired.name: cast(CursorResult[Any], await db.execute(expired.statement)).rowcount
        for expired in _expired(rules, settings, now)
    }


def delete_expired_sync(
    db: Session, settings: Settings, rules: Iterable[ExpiryRule], now: datetime
) -> Mapping[str, int]:
    """`delete_expired` for a synchronous session: the worker's."""
    return {
        expired.name: cast(CursorResult[Any], db.execute(expired.statement)).rowcount
        for expired in _expired(rules, settings, now)
    }
