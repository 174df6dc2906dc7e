"""Endpoints under /auth."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from ..core.dependencies import SessionDep, SettingsDep
from .schemas import TokenResponse
from .service import authenticate, issue_access_token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenResponse:
    """The OAuth2 password flow: `username` is the account's email."""
    user = await authenticate(session, form.username, form.password)
    access = issue_access_token(settings, user)
    return TokenResponse(access_token=access.token, expires_in=access.expires_in)
