"""Database access for sign-in: refresh tokens and one-time codes. All of auth's SQL is here.

Flushes, never commits: the request owns the transaction.
"""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update

from ..core.cleanup import Expired
from ..core.config import Settings
from ..core.db import utcnow
from ..core.repository import Repository
from .models import OneTimeCode, RefreshToken


class RefreshTokenRepository(Repository):
    async def add(self, token: RefreshToken) -> None:
        self.db.add(token)
        await self.db.flush()

    async def id_by_digest(self, digest: str) -> uuid.UUID | None:
        return await self.db.scalar(
            select(RefreshToken.id).where(RefreshToken.token_digest == digest)
        )

    async def claim(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Spend a live token, atomically: of two requests racing with it, exactly one wins.

        By primary key: a lock taken through the digest's index would also cover the gap before
        it, which the winner's insert of the next token may need, and InnoDB would deadlock.
        """
        claimed = await self.db.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(used_at=now)
        )
        return self._rowcount(claimed) == 1

    async def get_locked(self, token_id: uuid.UUID) -> RefreshToken | None:
        """The token as the database holds it now, locked until the transaction ends."""
        return await self.db.scalar(
            select(RefreshToken)
            .where(RefreshToken.id == token_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def spent_since(self, family_id: uuid.UUID, moment: datetime) -> bool:
        """Whether a token of the family was spent after `moment`."""
        later = await self.db.scalar(
            select(RefreshToken.id)
            .where(RefreshToken.family_id == family_id, RefreshToken.used_at > moment)
            .limit(1)
        )
        return later is not None

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        """Revoke every token of the session, the one a refresh racing with this makes too.

        The family is locked first, which waits for such a refresh to commit: on PostgreSQL,
        an UPDATE sees only the rows there were when it began, and would miss its new token.
        """
        await self.db.execute(
            select(RefreshToken.id).where(RefreshToken.family_id == family_id).with_for_update()
        )
        await self.db.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    async def family_of(self, digest: str, user_id: uuid.UUID) -> uuid.UUID | None:
        """The family of a token, if it is one of this user's."""
        return await self.db.scalar(
            select(RefreshToken.family_id).where(
                RefreshToken.token_digest == digest, RefreshToken.user_id == user_id
            )
        )


class OneTimeCodeRepository(Repository):
    @staticmethod
    def _of(user_id: uuid.UUID, purpose: str) -> tuple[ColumnElement[bool], ...]:
        return (OneTimeCode.user_id == user_id, OneTimeCode.purpose == purpose)

    async def replace(self, code: OneTimeCode) -> None:
        """Store a code in place of the user's previous one of the same purpose."""
        await self.db.execute(delete(OneTimeCode).where(*self._of(code.user_id, code.purpose)))
        self.db.add(code)
        await self.db.flush()

    async def count_try(
        self, user_id: uuid.UUID, purpose: str, max_attempts: int, now: datetime
    ) -> OneTimeCode | None:
        """Count a try at the user's live code, atomically, before it is compared: concurrent
        guesses cannot exceed the limit. The code as counted, locked until the transaction
        ends; None when there is no live code with tries left. Both statements run either way,
        so that no code costs what a code does."""
        counted = await self.db.execute(
            update(OneTimeCode)
            .where(
                *self._of(user_id, purpose),
                OneTimeCode.attempts < max_attempts,
                OneTimeCode.expires_at > now,
            )
            .values(attempts=OneTimeCode.attempts + 1)
        )
        # Read back whether or not the count took, so that both cases cost the same. A locking
        # read, of the row just counted: a plain one, on MySQL, would answer from the
        # transaction's snapshot, the code a concurrent request has replaced since.
        code = await self.db.scalar(
            select(OneTimeCode)
            .where(*self._of(user_id, purpose))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return code if self._rowcount(counted) == 1 else None

    async def delete(self, code: OneTimeCode) -> None:
        await self.db.delete(code)
        await self.db.flush()


def expired_sign_in_rows(settings: Settings, now: datetime) -> list[Expired]:
    """Auth's clean-up: refresh tokens and codes past the expiry written on each."""
    return [
        Expired("refresh_tokens", delete(RefreshToken).where(RefreshToken.expires_at < now)),
        Expired("one_time_codes", delete(OneTimeCode).where(OneTimeCode.expires_at < now)),
    ]
