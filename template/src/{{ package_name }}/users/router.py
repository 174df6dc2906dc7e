"""Endpoints under /users."""

from fastapi import APIRouter

from .dependencies import CurrentUser
from .schemas import UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)
