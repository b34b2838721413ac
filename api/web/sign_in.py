"""Signing in and out, and the home page that sends each role to its own start page."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import csrf, sessions
from api.auth import TOKEN_COOKIE, read_token, sign_in_with_password, start_sign_in
from api.deps import SessionDep, SettingsDep
from api.errors import Problem
from api.web.forms import form_of
from api.web.plumbing import HOME, PageUser, local_path, redirect, render
from settings import Settings

router = APIRouter(include_in_schema=False)

# What the login page says for each refusal of sign_in_with_password (429 and 503 say
# their own Chinese sentence, with how long to wait).
REFUSALS = {401: "账号或密码错误", 403: "该账号已停用，请联系管理员"}
FORM_EXPIRED = "登录页面已过期，请重新登录"


@router.get("/", response_class=RedirectResponse)
async def home(me: PageUser) -> RedirectResponse:
    return redirect(HOME[me.role] if me else "/login")


def _login_form(
    request: Request,
    settings: Settings,
    me: PageUser,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    """The login page, its form bound to the browser's pre-sign-in cookie (made if missing)."""
    nonce = request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_login_nonce()
    response = render(
        request,
        "login.html",
        me,
        status_code,
        csrf_token=csrf.login_token(settings, nonce),
        **context,
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        nonce,
        max_age=csrf.LOGIN_COOKIE_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return response


@router.get(csrf.LOGIN_PATH, response_class=HTMLResponse)
async def login_page(
    request: Request, me: PageUser, settings: SettingsDep, next: str = ""
) -> HTMLResponse:
    return _login_form(request, settings, me, next=next)


@router.post(csrf.LOGIN_PATH, response_model=None)
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await form_of(request)
    username = str(form.get("username", "")).strip()
    next_page = str(form.get("next") or "")
    if not await csrf.login_token_matches(request):
        return _login_form(
            request,
            settings,
            None,
            403,
            username=username,
            next=next_page,
            extra_flashes=[("error", FORM_EXPIRED)],
        )
    password = str(form.get("password", ""))
    missing = {
        name: message
        for name, value, message in (
            ("username", username, "请填写账号"),
            ("password", password, "请填写密码"),
        )
        if not value
    }
    if missing:
        return _login_form(
            request, settings, None, 422, username=username, next=next_page, errors=missing
        )
    try:
        actor = await sign_in_with_password(request, session, username, password)
    except Problem as refusal:
        page = _login_form(
            request,
            settings,
            None,
            refusal.status,
            username=username,
            next=next_page,
            extra_flashes=[("error", REFUSALS.get(refusal.status, refusal.detail))],
        )
        if refusal.headers and "Retry-After" in refusal.headers:
            page.headers["Retry-After"] = refusal.headers["Retry-After"]
        return page
    response = redirect(local_path(next_page, HOME[actor.role]))
    response.set_cookie(
        TOKEN_COOKIE,
        await start_sign_in(session, settings, actor, kind=sessions.WEB),
        httponly=True,
        samesite="lax",
        max_age=settings.jwt_ttl_minutes * 60,
        secure=settings.environment == "production",
    )
    response.delete_cookie(csrf.LOGIN_COOKIE)
    return response


@router.post("/logout", response_class=RedirectResponse)
async def logout(request: Request, session: SessionDep, settings: SettingsDep) -> RedirectResponse:
    token = request.cookies.get(TOKEN_COOKIE)
    claims = read_token(settings, token) if token else None
    if claims is not None:
        await sessions.end(session, claims.session_id, now=datetime.now(UTC))
    response = redirect("/login", ok="已退出")
    response.delete_cookie(TOKEN_COOKIE)
    return response
