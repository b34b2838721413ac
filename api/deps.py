"""Dependencies, as Annotated aliases the routes name in their signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import Problem
from api.security import read_token
from domain.order import Actor
from domain.statuses import Role
from settings import Settings

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
TOKEN_COOKIE = "access_token"


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


def current_actor(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> Actor:
    # The web pages keep the token in a cookie; API clients send it as a bearer header.
    token = token or request.cookies.get(TOKEN_COOKIE)
    actor = read_token(settings, token) if token else None
    if actor is None:
        raise Problem(401, "not signed in, or the session expired", headers={"WWW-Authenticate": "Bearer"})
    return actor


CurrentUser = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    def check(actor: CurrentUser) -> Actor:
        if actor.role not in roles:
            raise Problem(403, f"the {actor.role} role may not use this route")
        return actor

    return check


BuyerUser = Annotated[Actor, Depends(require_roles(Role.BUYER))]
ReviewerUser = Annotated[Actor, Depends(require_roles(Role.REVIEWER, Role.ADMIN))]
FinanceUser = Annotated[Actor, Depends(require_roles(Role.FINANCE, Role.ADMIN))]
StaffUser = Annotated[Actor, Depends(require_roles(Role.REVIEWER, Role.FINANCE, Role.ADMIN))]
