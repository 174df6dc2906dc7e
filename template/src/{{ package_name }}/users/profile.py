"""The signed-in user's profile (/users/me): the account's own fields, and those that features
add; `users` knows none of them.

A feature adds a `ProfileSection`: a model of its fields, and for each field a SQL expression
of the user's row, labelled with the field's name. The whole profile is then one statement,
whatever the features add, read under the rule that a token's user is read by (see
`UserRepository.get_signed_in`): /users/me asks the database once. `api.py` builds the users
router with the sections of the features that are on and of the service's own domains
(`domains.py`), so that the profile's schema, in the OpenAPI document too, holds exactly their
fields.
"""

import uuid
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, create_model
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.tokens import InvalidTokenError
from .models import User
from .repository import UserRepository
from .schemas import UserRead


@dataclass(frozen=True, slots=True)
class ProfileSection:
    fields: type[BaseModel]
    #: One expression per field, labelled with the field's name; a subquery correlates with
    #: the user's row through `User.id`.
    columns: tuple[ColumnElement[Any], ...]

    def __post_init__(self) -> None:
        fields = set(self.fields.model_fields)
        if {column.key for column in self.columns} != fields:
            msg = f"a profile section needs one column labelled for each field: {sorted(fields)}"
            raise ValueError(msg)


class Profile:
    """The profile's schema, made of the account's fields and every section's, and the columns
    that read it."""

    def __init__(self, *sections: ProfileSection) -> None:
        self.schema: type[UserRead] = UserRead
        if sections:
            # The account's fields first: pydantic orders fields from the last base to the first.
            bases: tuple[type[BaseModel], ...] = (*(s.fields for s in sections), UserRead)
            self.schema = cast(type[UserRead], create_model("UserProfile", __base__=bases))
        account = tuple(getattr(User, name) for name in UserRead.model_fields)
        self.columns = (*account, *(column for section in sections for column in section.columns))

    async def of(self, db: AsyncSession, user_id: uuid.UUID, version: int) -> UserRead:
        """The profile of the user a token of `version` names, or `InvalidTokenError` when the
        token may no longer speak for them."""
        row = await UserRepository(db).signed_in_profile(user_id, version, self.columns)
        if row is None:
            raise InvalidTokenError
        return self.schema.model_validate(row)
