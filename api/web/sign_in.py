"""Signing in and out, and the home page that sends each role to its own start page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import TOKEN_COOKIE, authenticate, issue_token
from api.deps import SessionDep, SettingsDep
from api.web.forms import form_of
from api.web.plumbing import HOME, PageUser, local_path, redirect, render
from db import queries

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=RedirectResponse)
async def home(me: PageUser) -> RedirectResponse:
    return redirect(HOME[me.role] if me else "/login")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, me: PageUser, next: str = "") -> HTMLResponse:
    return render(request, "login.html", me, next=next)


@router.post("/login", response_model=None)
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await form_of(request)
    username = str(form.get("username", "")).strip()
    actor = await authenticate(
        await queries.user(session, username=username), str(form.get("password", ""))
    )
    if actor is None:
        return render(
            request,
            "login.html",
            None,
            401,
            username=username,
            extra_flashes=[("error", "账号或密码错误")],
        )
    response = redirect(local_path(str(form.get("next") or ""), HOME[actor.role]))
    response.set_cookie(
        TOKEN_COOKIE,
        issue_token(settings, actor),
        httponly=True,
        samesite="lax",
        max_age=settings.jwt_ttl_minutes * 60,
        secure=settings.environment == "production",
    )
    return response


@router.post("/logout", response_class=RedirectResponse)
async def logout() -> RedirectResponse:
    response = redirect("/login", ok="已退出")
    response.delete_cookie(TOKEN_COOKIE)
    return response
