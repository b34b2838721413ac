"""Cross-site request forgery: a browser sends the sign-in cookie with any request, including
one a page on another site makes it send. Two checks stop that.

1. Same origin (``SameOriginOnly``, middleware): a request authenticated by the cookie (no
   Authorization header) with an unsafe method must come from this site: ``Origin`` equal to
   the request's own scheme, host and port or, when ``Origin`` is absent,
   ``Sec-Fetch-Site: same-origin``. With neither header it is refused too: every current
   browser sends at least one of them on a cross-site POST, so only an old browser or a
   program sends neither, and a program signs in with a bearer token instead of the cookie.
   Bearer calls are not checked: a browser never adds an Authorization header on its own.
   The Temporal UI's origins (``TEMPORAL_UI_ORIGIN``, already allowed by CORS) may call
   ``/codec/`` with the cookie; decoding changes nothing.
2. Form token (``require_page_token``, a dependency of every page router): every page form
   carries ``csrf_token``, an HMAC of the sign-in's session id, so a form made elsewhere
   cannot carry it. The login form's token is bound instead to a short-lived pre-sign-in
   cookie (``login_nonce``), so nobody can be signed in to someone else's account unawares.
   Programs may send the token in the ``X-CSRF-Token`` header instead of the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection

from fastapi import Request
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import TOKEN_COOKIE, read_token
from api.errors import Problem
from api.state import app_state
from settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_PATH = "/login"
LOGIN_COOKIE = "login_nonce"
LOGIN_COOKIE_MAX_AGE_SECONDS = 30 * 60
CODEC_PREFIX = "/codec/"


def cross_site(detail: str = "请求不是来自本站页面，已拒绝") -> Problem:
    return Problem(403, detail, code="cross_site")


def form_expired() -> Problem:
    return cross_site("页面已过期或不是来自本站，请刷新页面后重试")


# --- 1. same origin ---------------------------------------------------------------------


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def comes_from_this_site(request: Request, trusted_codec_origins: Collection[str]) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site") == "same-origin"
    origin = origin.lower()
    if origin == own_origin(request):
        return True
    return request.url.path.startswith(CODEC_PREFIX) and origin in trusted_codec_origins


def authenticated_by_cookie(request: Request) -> bool:
    return TOKEN_COOKIE in request.cookies and "authorization" not in request.headers


class SameOriginOnly:
    """Pure ASGI middleware: the refusal comes before any route reads the body."""

    def __init__(self, app: ASGIApp, *, trusted_codec_origins: Collection[str]) -> None:
        self.app = app
        self.trusted_codec_origins = frozenset(o.lower() for o in trusted_codec_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            request = Request(scope)
            if authenticated_by_cookie(request) and not comes_from_this_site(
                request, self.trusted_codec_origins
            ):
                await cross_site().response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --- 2. form tokens ---------------------------------------------------------------------


def _token(settings: Settings, purpose: str, value: str) -> str:
    message = f"csrf:{purpose}:{value}".encode()
    return hmac.new(
        settings.jwt_secret.get_secret_value().encode(), message, hashlib.sha256
    ).hexdigest()


def _same(expected: str, submitted: str) -> bool:
    return hmac.compare_digest(expected.encode(), submitted.encode())


def session_token(settings: Settings, session_id: str) -> str:
    return _token(settings, "session", session_id)


def login_token(settings: Settings, nonce: str) -> str:
    return _token(settings, "login", nonce)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def page_token(request: Request) -> str:
    """The token the forms of a page carry: that of the sign-in the cookie names, if any."""
    cookie = request.cookies.get(TOKEN_COOKIE)
    claims = read_token(app_state(request).settings, cookie) if cookie else None
    return session_token(app_state(request).settings, claims.session_id) if claims else ""


# Starlette's default is 1,000 fields. The checkout posts its invoice profiles' edit fields
# with the order (about ten a profile), so a buyer with a hundred profiles passed it; the
# body size limit (api/limits.py) bounds the parsing work whatever this number is.
PAGE_FORM_MAX_FIELDS = 20_000


async def read_page_form(request: Request) -> FormData:
    """A page's form, parsed once (Starlette keeps it on the request) with the page limits."""
    return await request.form(max_fields=PAGE_FORM_MAX_FIELDS)


async def _submitted(request: Request) -> str:
    value = (await read_page_form(request)).get(FORM_FIELD)
    if isinstance(value, str) and value:
        return value
    return request.headers.get(HEADER, "")


async def require_page_token(request: Request) -> None:
    """Every page POST of a signed-in browser carries its session's token, else 403."""
    if request.method not in UNSAFE_METHODS or request.url.path == LOGIN_PATH:
        return  # the login form is checked against its pre-sign-in token by its route
    cookie = request.cookies.get(TOKEN_COOKIE)
    claims = read_token(app_state(request).settings, cookie) if cookie else None
    if claims is None:
        return  # not signed in: the page's own guard sends the caller to sign in
    expected = session_token(app_state(request).settings, claims.session_id)
    if not _same(expected, await _submitted(request)):
        raise form_expired()


async def login_token_matches(request: Request) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce:
        return False
    return _same(login_token(app_state(request).settings, nonce), await _submitted(request))
