"""Database access for users. Flushes, never commits: the request owns the transaction."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .identity import normalize_email
from .models import User


class UserRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.db.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        address = normalize_email(email)
        if not address.isprintable():
            return None  # no stored address holds a control character (or NUL, which PG refuses)
        return await self.db.scalar(select(User).where(User.email == address))

    async def page(self, *, offset: int, limit: int) -> tuple[list[User], int]:
        """A page of users, oldest first, and how many there are in all."""
        total = await self.db.scalar(select(func.count()).select_from(User))
        page = await self.db.scalars(
            select(User).order_by(User.created_at, User.id).offset(offset).limit(limit)
        )
        return list(page), total or 0

    async def lock(self, user_id: uuid.UUID) -> None:
        """Hold the user's row until the transaction ends: concurrent changes to what belongs
        to the user wait for each other."""
        await self.db.execute(select(User.id).where(User.id == user_id).with_for_update())

    async def add(self, user: User) -> User:
        self.db.add(user)
        await self.db.flush()
        return user

    async def delete(self, user: User) -> None:
        """Their sessions and codes go with them (ON DELETE CASCADE); the audit trail stays."""
        await self.db.delete(user)
        await self.db.flush()
