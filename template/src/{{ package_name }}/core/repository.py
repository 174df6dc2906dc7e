"""What every repository shares: the request's session, and the count of rows a statement
changed. Repositories flush, never commit: the request owns the transaction."""

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


class Repository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    @staticmethod
    def _rowcount(result: object) -> int:
        """The rows an UPDATE or DELETE changed: how a conditional claim tells who won."""
        return cast(CursorResult[Any], result).rowcount
