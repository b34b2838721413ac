"""Who is calling: sign-in, signed access tokens (JWT, HS256) and the role checks.

The Actor every command carries comes from here, never from a request body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import Problem
from api.state import AppState, app_state, get_session
from db import queries
from db.models import User
from db.passwords import hash_password, verify_password
from domain.order import Actor
from domain.statuses import BUYERS, FINANCE_STAFF, REVIEWERS, STAFF, Role
from settings import Settings

ALGORITHM = "HS256"
TOKEN_URL = "/api/auth/token"
# Browsers (the web pages, the Temporal UI calling /codec) carry the token in this cookie.
TOKEN_COOKIE = "access_token"
BEARER = {"WWW-Authenticate": "Bearer"}

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def issue_token(settings: Settings, actor: Actor, *, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": actor.username,
        "role": actor.role.value,
        "company": actor.company,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.jwt_ttl_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def read_token(settings: Settings, token: str) -> Actor | None:
    """The actor a valid, unexpired token names; None for anything else."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "role"]},
        )
        return Actor(
            username=claims["sub"], role=Role(claims["role"]), company=claims.get("company", "")
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


@cache
def _decoy_hash() -> str:
    return hash_password("decoy password, never valid")


async def authenticate(user: User | None, password: str) -> Actor | None:
    """The actor when the password fits. Argon2 runs in a thread, and runs for unknown
    users too, so the answer time does not tell which usernames exist."""
    stored = user.password_hash if user is not None else _decoy_hash()
    matches = await asyncio.to_thread(verify_password, stored, password)
    if user is None or not matches:
        return None
    return Actor(username=user.username, role=Role(user.role), company=user.company)


def not_signed_in() -> Problem:
    return Problem(401, "not signed in, or the sign-in has expired", headers=BEARER)


def current_user(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    token = bearer or request.cookies.get(TOKEN_COOKIE)
    actor = read_token(state.settings, token) if token else None
    if actor is None:
        raise not_signed_in()
    return actor


CurrentUser = Annotated[Actor, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only ``roles``; anyone else signed in gets 403."""
    allowed = frozenset(roles)

    def check(actor: CurrentUser) -> Actor:
        if actor.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Problem(403, f"the {actor.role.value} role may not use this route ({names} only)")
        return actor

    return check


# Admin may do every staff action: it is in both the reviewer's and finance's sets.
BuyerUser = Annotated[Actor, Depends(require_roles(*BUYERS))]
ReviewerUser = Annotated[Actor, Depends(require_roles(*REVIEWERS))]
FinanceUser = Annotated[Actor, Depends(require_roles(*FINANCE_STAFF))]
StaffUser = Annotated[Actor, Depends(require_roles(*STAFF))]


router = APIRouter(prefix="/api", tags=["identity"])


@router.post("/auth/token", response_model=schemas.TokenOut)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: Annotated[AsyncSession, Depends(get_session)],
    state: Annotated[AppState, Depends(app_state)],
) -> schemas.TokenOut:
    actor = await authenticate(await queries.user(session, username=form.username), form.password)
    if actor is None:
        raise Problem(401, "wrong username or password", headers=BEARER)
    return schemas.TokenOut(access_token=issue_token(state.settings, actor), role=actor.role.value)


@router.get("/me", response_model=schemas.MeOut)
async def me(actor: CurrentUser) -> schemas.MeOut:
    return schemas.MeOut(username=actor.username, role=actor.role.value, company=actor.company)
