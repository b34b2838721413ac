"""Sign-in and identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api import schemas
from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import Problem
from api.security import issue_token
from db import queries
from db.passwords import verify_password
from domain.statuses import Role

router = APIRouter(prefix="/api", tags=["identity"])


@router.post("/auth/token", response_model=schemas.TokenOut)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> schemas.TokenOut:
    user = await queries.user(session, form.username)
    if user is None or not verify_password(user.password_hash, form.password):
        raise Problem(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
    role = Role(user.role)
    access = issue_token(settings, username=user.username, role=role, company=user.company)
    return schemas.TokenOut(access_token=access, role=role.value)


@router.get("/me", response_model=schemas.MeOut)
async def me(actor: CurrentUser) -> schemas.MeOut:
    return schemas.MeOut(username=actor.username, role=actor.role.value, company=actor.company)
