"""Who is calling: sign-in, signed access tokens (JWT, HS256) bound to a server-side
session (``api.sessions``), sign-out, the password change and the role checks.

The Actor every command carries comes from here, never from a request body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from api import openapi, schemas, sessions
from api.errors import Problem, invalid_field
from api.metrics import count_sign_in_failure
from api.password_check import password_checks
from api.sign_in_throttle import Caller, clear_account, record_failure, seconds_locked
from api.state import AppState, app_state, get_session
from db import accounts, queries
from db.models import User
from db.passwords import hash_password
from domain.order import Actor
from domain.statuses import BUYERS, FINANCE_STAFF, REVIEWERS, ROLE_LABELS, STAFF, Role
from settings import Settings

ALGORITHM = "HS256"
TOKEN_URL = "/api/auth/token"
# Browsers (the web pages, the Temporal UI calling /codec) carry the token in this cookie.
TOKEN_COOKIE = "access_token"
BEARER = {"WWW-Authenticate": "Bearer"}

# The roles, as OAuth2 scopes, name in the OpenAPI document who may call each operation.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    scopes={role.value: ROLE_LABELS[role] for role in Role},
)


@dataclass(frozen=True)
class SignedIn:
    """A caller whose token is valid, and the session the token belongs to."""

    actor: Actor
    session_id: str


def issue_token(
    settings: Settings, actor: Actor, *, session_id: str, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": actor.username,
        "role": actor.role.value,
        "company": actor.company,
        "sid": session_id,
        "iat": issued,
        "exp": issued + timedelta(minutes=settings.jwt_ttl_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def read_token(settings: Settings, token: str) -> SignedIn | None:
    """Who a validly signed, unexpired token names; None for anything else. Whether its
    session is still live is ``signed_in``'s question."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "role", "sid"]},
        )
        actor = Actor(
            username=claims["sub"], role=Role(claims["role"]), company=claims.get("company", "")
        )
        return SignedIn(actor=actor, session_id=str(claims["sid"]))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


async def signed_in(state: AppState, token: str) -> SignedIn | None:
    """The caller of a valid token whose session is live; None otherwise."""
    claims = read_token(state.settings, token)
    if claims is None:
        return None
    live = await sessions.check(
        state.sessions, state.settings, claims.session_id, now=datetime.now(UTC)
    )
    return claims if live else None


async def start_sign_in(db: AsyncSession, settings: Settings, actor: Actor, *, kind: str) -> str:
    """A new session for ``actor`` and the token that carries it."""
    now = datetime.now(UTC)
    session_id = await sessions.start(db, settings, username=actor.username, kind=kind, now=now)
    return issue_token(settings, actor, session_id=session_id, now=now)


@cache
def _decoy_hash() -> str:
    return hash_password("decoy password, never valid")


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers (trusting only that proxy) sets this.
    return request.client.host if request.client else "unknown"


async def password_matches(
    request: Request, db: AsyncSession, user: User | None, caller: Caller, password: str
) -> bool:
    """Whether ``password`` is the user's, throttled per account and address (429 while
    locked, before any hashing) and through the process's Argon2 gate (503 when busy).
    Argon2 runs for unknown users too, so the answer time does not tell which usernames exist."""
    settings = app_state(request).settings
    now = datetime.now(UTC)
    locked = await seconds_locked(db, settings, caller, now=now)
    if locked:
        count_sign_in_failure(request, "throttled")
        raise Problem(
            429,
            f"登录失败次数过多，请在 {locked} 秒后重试",
            code="too_many_attempts",
            headers={"Retry-After": str(locked)},
        )
    stored = user.password_hash if user is not None else _decoy_hash()
    try:
        matches = await password_checks(request).verify(stored, password)
    except Problem:
        count_sign_in_failure(request, "busy")
        raise
    if user is None or not matches:
        count_sign_in_failure(request, "wrong_password")
        await record_failure(db, settings, caller, now=now)
        return False
    await clear_account(db, caller.username)
    return True


async def sign_in_with_password(
    request: Request, db: AsyncSession, username: str, password: str
) -> Actor:
    """The actor when the password fits; else 401 (or 429, 503, 403 for a disabled account)."""
    user = await queries.user(db, username=username)
    caller = Caller(username=username, address=client_address(request))
    if not await password_matches(request, db, user, caller, password):
        raise Problem(401, "用户名或密码错误", headers=BEARER)
    assert user is not None
    if user.disabled:
        count_sign_in_failure(request, "disabled")
        raise Problem(403, "该账号已停用，请联系管理员", code="account_disabled")
    return Actor(username=user.username, role=Role(user.role), company=user.company)


def not_signed_in() -> Problem:
    return Problem(401, "未登录或登录已过期，请重新登录", headers=BEARER)


async def current_sign_in(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> SignedIn:
    token = bearer or request.cookies.get(TOKEN_COOKIE)
    caller = await signed_in(state, token) if token else None
    if caller is None:
        raise not_signed_in()
    return caller


CurrentSignIn = Annotated[SignedIn, Depends(current_sign_in)]


def current_user(signed_in: CurrentSignIn) -> Actor:
    return signed_in.actor


CurrentUser = Annotated[Actor, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only ``roles``; anyone else signed in gets 403."""
    allowed = frozenset(roles)

    def check(actor: CurrentUser) -> Actor:
        if actor.role not in allowed:
            names = "、".join(ROLE_LABELS[r] for r in sorted(allowed))
            raise Problem(403, f"{ROLE_LABELS[actor.role]}无权使用此功能（仅限{names}）")
        return actor

    return check


# Admin may do every staff action: it is in both the reviewer's and finance's sets.
def roles_only(roles: frozenset[Role]) -> Any:
    """``require_roles`` as a dependency whose roles the OpenAPI document shows as the
    operation's scopes (nothing reads them at run time: ``require_roles`` decides)."""
    return Security(require_roles(*roles), scopes=sorted(role.value for role in roles))


BuyerUser = Annotated[Actor, roles_only(BUYERS)]
ReviewerUser = Annotated[Actor, roles_only(REVIEWERS)]
FinanceUser = Annotated[Actor, roles_only(FINANCE_STAFF)]
StaffUser = Annotated[Actor, roles_only(STAFF)]


router = APIRouter(prefix="/api", tags=["identity"])


@router.post(
    "/auth/token",
    response_model=schemas.TokenOut,
    summary="Sign in · 登录",
    responses=openapi.SIGN_IN,
)
async def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: Annotated[AsyncSession, Depends(get_session)],
    state: Annotated[AppState, Depends(app_state)],
) -> schemas.TokenOut:
    """OAuth2 password form (`username`, `password`) for a bearer token and the caller's role.
    Throttled per account and client address: too many failures answer 429 with
    `Retry-After`."""
    actor = await sign_in_with_password(request, session, form.username, form.password)
    token = await start_sign_in(session, state.settings, actor, kind=sessions.API)
    return schemas.TokenOut(access_token=token, role=actor.role.value)


@router.post(
    "/auth/logout", status_code=204, response_class=Response, summary="Sign out · 退出登录"
)
async def sign_out(
    signed_in: CurrentSignIn, session: Annotated[AsyncSession, Depends(get_session)]
) -> Response:
    """This token (or the web sign-in cookie) stops working at once."""
    await sessions.end(session, signed_in.session_id, now=datetime.now(UTC))
    response = Response(status_code=204)
    response.delete_cookie(TOKEN_COOKIE)
    return response


@router.post(
    "/me/password", status_code=204, response_class=Response, summary="Change password · 修改密码"
)
async def change_password(
    body: schemas.PasswordChangeIn,
    request: Request,
    signed_in: CurrentSignIn,
    session: Annotated[AsyncSession, Depends(get_session)],
) -> Response:
    """Signed in. A wrong `current_password` is a 422 on that field; every other sign-in of the
    account stops working, this one is kept."""
    await change_own_password(request, session, signed_in, body)
    return Response(status_code=204)


async def change_own_password(
    request: Request, session: AsyncSession, signed_in: SignedIn, body: schemas.PasswordChangeIn
) -> None:
    """The caller's own sign-in keeps working; every other one of the account ends.
    A wrong current password is a 422 on ``current_password``."""
    username = signed_in.actor.username
    user = await queries.user(session, username=username)
    caller = Caller(username=username, address=client_address(request))
    if not await password_matches(request, session, user, caller, body.current_password):
        raise invalid_field("current_password", "当前密码不正确")
    new_hash = await password_checks(request).hash(body.new_password)
    await accounts.change_password(
        session, username, new_hash, keep_session=signed_in.session_id, now=datetime.now(UTC)
    )
