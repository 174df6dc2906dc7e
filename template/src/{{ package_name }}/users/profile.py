"""The signed-in user's profile (/users/me): the account's own fields, and those that features
add; `users` knows none of them.

A feature adds a `ProfileSection`: a model of its fields, and how to load them for a user.
`api.py` builds the users router with the sections of the features that are on, so that the
profile's schema, in the OpenAPI document too, holds exactly their fields.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User
from .schemas import UserRead

#: Loads a section's fields for a user, as an instance of the section's model.
SectionLoader = Callable[[AsyncSession, User], Awaitable[BaseModel]]


@dataclass(frozen=True, slots=True)
class ProfileSection:
    fields: type[BaseModel]
    load: SectionLoader


class Profile:
    """The profile's schema, made of the account's fields and every section's."""

    def __init__(self, *sections: ProfileSection) -> None:
        self.sections = sections
        self.schema: type[UserRead] = UserRead
        if self.sections:
            # The account's fields first: pydantic orders fields from the last base to the first.
            bases: tuple[type[BaseModel], ...] = (*(s.fields for s in sections), UserRead)
            self.schema = cast(type[UserRead], create_model("UserProfile", __base__=bases))

    async def of(self, db: AsyncSession, user: User) -> UserRead:
        values: dict[str, Any] = UserRead.model_validate(user).model_dump()
        for section in self.sections:
            values |= (await section.load(db, user)).model_dump()
        return self.schema.model_validate(values)
