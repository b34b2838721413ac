"""The buyer center's own-account pages: 我的消息 (messages, read one or all) and 账户信息
(contact fields, and the password change)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import schemas
from api.auth import CurrentSignIn, change_own_password
from api.deps import SessionDep
from api.errors import Problem, invalid_field
from api.services import account, messages
from api.web import forms
from api.web.kept_forms import kept_form, refused
from api.web.plumbing import (
    BuyerPage,
    field_errors,
    number_in,
    page_number,
    query_link,
    redirect,
    render,
)
from db.queries import Page
from domain.account import AccountInput
from domain.order import Actor

router = APIRouter(include_in_schema=False)

MESSAGES_PER_PAGE = 20
ACCOUNT_FIELDS = ("contact_name", "mobile", "email")


# --- 我的消息 -------------------------------------------------------------------------------


@router.get("/my/messages", response_class=HTMLResponse, response_model=None)
async def my_messages(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    unread_only = request.query_params.get("unread") == "true"
    number = page_number(request)
    found = await messages.page(
        session=session,
        buyer=me.username,
        unread_only=unread_only,
        page=Page(number=number, size=MESSAGES_PER_PAGE),
    )
    opened = request.query_params.get("open", "")
    return render(
        request,
        "my_messages.html",
        me,
        section="my",
        page={
            "items": found.items,
            "total": found.total,
            "page": number,
            "page_size": MESSAGES_PER_PAGE,
        },
        unread_only=unread_only,
        opened=number_in(opened),
        page_link=lambda n: query_link(request, page=n),
    )


@router.post("/my/messages/{message_id}/read", response_model=None)
async def read_message(message_id: int, me: BuyerPage, session: SessionDep) -> Response:
    try:
        await messages.mark_read(session=session, buyer=me.username, message_id=message_id)
    except Problem:
        return redirect("/my/messages", err="消息不存在")
    return redirect(f"/my/messages?open={message_id}#message-{message_id}")


@router.post("/my/messages/read-all", response_model=None)
async def read_all_messages(me: BuyerPage, session: SessionDep) -> Response:
    await messages.mark_all_read(session=session, buyer=me.username)
    return redirect("/my/messages", ok="已全部标为已读")


# --- 账户信息 -------------------------------------------------------------------------------

ACCOUNT_PAGE = "/my/account"
# What a refused account or password form leaves for the page.
KEPT = ("form", "errors", "password_errors")


def _account_page(
    request: Request,
    me: Actor,
    account_out: schemas.MeOut,
    **context: Any,
) -> Response:
    context.setdefault("form", account_out.model_dump())
    context.setdefault("errors", {})
    context.setdefault("password_errors", {})
    return render(request, "my_account.html", me, section="my", account=account_out, **context)


@router.get("/my/account", response_class=HTMLResponse, response_model=None)
async def account_page(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    # A refused form's values and errors (never a password: those are typed again).
    kept = {k: v for k, v in kept_form(request).items() if k in KEPT}
    return _account_page(request, me, await account.me(session=session, actor=me), **kept)


@router.post("/my/account", response_model=None)
async def save_account(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    form = await forms.form_of(request)
    # A field left blank keeps its value, as a field left out of PUT /api/me does.
    given = {name: form[name] for name in ACCOUNT_FIELDS if str(form.get(name, "")).strip()}
    try:
        await account.update(session=session, actor=me, data=AccountInput.model_validate(given))
    except ValidationError as error:
        return refused(request, ACCOUNT_PAGE, form=form, errors=field_errors(error))
    return redirect(ACCOUNT_PAGE, ok="账户信息已保存")


PASSWORD_LABELS = {"current_password": "当前密码", "new_password": "新密码",
                   "confirm_password": "确认新密码"}  # fmt: skip


@router.post("/my/account/password", response_model=None)
async def change_password(
    request: Request, me: BuyerPage, signed_in: CurrentSignIn, session: SessionDep
) -> Response:
    form = await forms.form_of(request)
    try:
        body = schemas.PasswordChangeIn.model_validate(
            {name: form.get(name, "") for name in ("current_password", "new_password")}
        )
        if form.get("confirm_password") != body.new_password:
            raise invalid_field("confirm_password", "两次输入的新密码不一致")
        await change_own_password(request, session, signed_in, body)
    except (ValidationError, Problem) as error:
        errors = forms.emptied(form, tuple(PASSWORD_LABELS), PASSWORD_LABELS) | field_errors(error)
        # A refusal naming no field (too many attempts) is shown above the forms.
        said = error.detail if isinstance(error, Problem) and not errors else ""
        return refused(request, ACCOUNT_PAGE, password_errors=errors, err=said)
    return redirect(ACCOUNT_PAGE, ok="密码已修改，该账号在其他地方的登录已全部退出")
