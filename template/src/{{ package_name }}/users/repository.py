"""Database access for users. Flushes, never commits: the request owns the transaction."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User


def normalize_email(email: str) -> str:
    return email.strip().lower()


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        query = select(User).where(User.email == normalize_email(email))
        return await self.session.scalar(query)

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user
