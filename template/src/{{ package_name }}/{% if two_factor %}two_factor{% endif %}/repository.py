"""Database access for two-factor sign-in: all of its SQL is here.

Every claim (a time step, a backup code, a challenge's try) is one conditional UPDATE: of two
requests racing for it, exactly one changes the row, and the other sees it changed.
Flushes, never commits: the request owns the transaction.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from ..core.cleanup import Expired
from ..core.config import Settings
from ..core.repository import Repository
from .models import BackupCode, SignInChallengeRecord, TotpCredential


class TwoFactorRepository(Repository):
    # The authenticator.

    async def credential(self, user_id: uuid.UUID) -> TotpCredential | None:
        return await self.db.get(TotpCredential, user_id, populate_existing=True)

    async def enabled_credential(self, user_id: uuid.UUID) -> TotpCredential | None:
        credential = await self.credential(user_id)
        return credential if credential is not None and credential.enabled_at else None

    async def pending_setup(self, user_id: uuid.UUID, now: datetime) -> TotpCredential | None:
        credential = await self.credential(user_id)
        if credential is None or credential.setup_expires_at is None:
            return None
        return credential if credential.setup_expires_at > now else None

    async def replace_setup(self, credential: TotpCredential) -> None:
        """Store a new setup in place of an unconfirmed one."""
        await self.db.execute(
            delete(TotpCredential).where(
                TotpCredential.user_id == credential.user_id, TotpCredential.enabled_at.is_(None)
            )
        )
        self.db.add(credential)
        await self.db.flush()

    async def claim_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record the time step of an accepted code, unless this or a later one was: a code
        is accepted once, and of two requests with one code, exactly one wins."""
        claimed = await self.db.execute(
            update(TotpCredential)
            .where(
                TotpCredential.user_id == user_id,
                or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step),
            )
            .values(last_used_step=step)
        )
        return self._rowcount(claimed) == 1

    async def all_credentials(self) -> Sequence[TotpCredential]:
        return (await self.db.scalars(select(TotpCredential))).all()

    async def remove(self, user_id: uuid.UUID) -> None:
        """Everything two-factor keeps for a user."""
        for model in (TotpCredential, BackupCode, SignInChallengeRecord):
            await self.db.execute(delete(model).where(model.user_id == user_id))

    # Backup codes.

    async def replace_backup_codes(self, user_id: uuid.UUID, digests: list[str]) -> None:
        """A new set; the old one dies."""
        await self.db.execute(delete(BackupCode).where(BackupCode.user_id == user_id))
        self.db.add_all(BackupCode(user_id=user_id, code_digest=digest) for digest in digests)
        await self.db.flush()

    async def claim_backup_code(
        self, user_id: uuid.UUID, digests: list[str], now: datetime
    ) -> bool:
        """Spend the user's unused code that has one of these digests."""
        claimed = await self.db.execute(
            update(BackupCode)
            .where(
                BackupCode.user_id == user_id,
                BackupCode.code_digest.in_(digests),
                BackupCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return self._rowcount(claimed) == 1

    async def backup_codes_left(self, user_id: uuid.UUID) -> int:
        left = await self.db.scalar(
            select(func.count())
            .select_from(BackupCode)
            .where(BackupCode.user_id == user_id, BackupCode.used_at.is_(None))
        )
        return left or 0

    # Sign-in challenges.

    async def add_challenge(self, challenge: SignInChallengeRecord) -> None:
        self.db.add(challenge)
        await self.db.flush()

    async def count_try(
        self, challenge_id: uuid.UUID, user_id: uuid.UUID, max_attempts: int, now: datetime
    ) -> SignInChallengeRecord | None:
        """Count a try at a live challenge of this user before its code is compared; the
        challenge as counted, or None when it is spent, expired, out of tries or not theirs."""
        counted = await self.db.execute(
            update(SignInChallengeRecord)
            .where(
                SignInChallengeRecord.id == challenge_id,
                SignInChallengeRecord.user_id == user_id,
                SignInChallengeRecord.used_at.is_(None),
                SignInChallengeRecord.attempts < max_attempts,
                SignInChallengeRecord.expires_at > now,
            )
            .values(attempts=SignInChallengeRecord.attempts + 1)
        )
        if self._rowcount(counted) != 1:
            return None
        # A locking read: a plain one, on MySQL, would answer from the transaction's snapshot,
        # without the tries concurrent requests counted since.
        return await self.db.get(
            SignInChallengeRecord, challenge_id, populate_existing=True, with_for_update=True
        )

    async def spend_challenge(self, challenge_id: uuid.UUID, now: datetime) -> bool:
        spent = await self.db.execute(
            update(SignInChallengeRecord)
            .where(
                SignInChallengeRecord.id == challenge_id, SignInChallengeRecord.used_at.is_(None)
            )
            .values(used_at=now)
        )
        return self._rowcount(spent) == 1


def expired_two_factor_rows(settings: Settings, now: datetime) -> list[Expired]:
    """Two-factor's clean-up: setups never confirmed, and challenges expired, used or out of
    tries."""
    challenge = SignInChallengeRecord
    return [
        Expired(
            "two_factor_credentials",
            delete(TotpCredential).where(
                TotpCredential.enabled_at.is_(None), TotpCredential.setup_expires_at < now
            ),
        ),
        Expired(
            "two_factor_challenges",
            delete(challenge).where(
                or_(
                    challenge.expires_at < now,
                    challenge.used_at.is_not(None),
                    challenge.attempts >= settings.two_factor_challenge_max_attempts,
                )
            ),
        ),
    ]
