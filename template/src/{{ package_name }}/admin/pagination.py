"""Offset pagination for list endpoints: `?offset=0&limit=50` in, `{items, total}` out."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 100

#: Far past any real list, and within every database's integers (an offset the database cannot
#: hold would be its error, a 500, instead of the schema's 422).
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int


async def page_request(
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageRequest:
    return PageRequest(offset, limit)


PageRequestDep = Annotated[PageRequest, Depends(page_request)]


class Page[Item](BaseModel):
    items: list[Item]
    total: int
