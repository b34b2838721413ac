"""What every page shares: the signed-in person, the role guards, templates and their
filters (every post form given its CSRF token), rendering, and post/redirect/get with the
outcome as a flash.

The flash travels in a short-lived cookie the redirect sets and the next page clears, never
in the link: a link anyone can write (``?err=请致电…``) must not make the site say anything.
A cookie for this site can only come from this site's own answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context
from markupsafe import Markup
from pydantic import ValidationError

from api.auth import TOKEN_COOKIE, signed_in
from api.csrf import FORM_FIELD, page_token
from api.errors import Problem
from api.field_messages import chinese_message
from api.services import messages
from api.state import app_state
from domain import lifecycle
from domain.calendar import shanghai
from domain.catalog import Platform
from domain.money import format_fen
from domain.order import Actor
from domain.statuses import (
    BUYERS,
    FINANCE_STAFF,
    INVOICE_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    REVIEWERS,
    STAFF,
    TAB_LABELS,
    Role,
)
from domain.validation import SUPPLEMENTARY_LABELS

POST_FORM_TAG = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>', re.IGNORECASE)


class CsrfFieldInPostForms(Extension):
    """Puts ``{{ csrf_field() }}`` right after every ``<form method="post">`` tag of every
    template as it is loaded, so no form, present or future, can forget its token."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return POST_FORM_TAG.sub(lambda tag: tag.group(0) + "{{ csrf_field() }}", source)


@pass_context
def csrf_field(context: Context) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FORM_FIELD, context.get("csrf_token", "")
    )


TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.add_extension(CsrfFieldInPostForms)
TEMPLATES.env.globals["csrf_field"] = csrf_field
TEMPLATES.env.filters["fen"] = lambda fen: format_fen(int(fen)) if fen is not None else ""
TEMPLATES.env.filters["dt"] = lambda t: (
    shanghai(t).strftime("%Y-%m-%d %H:%M:%S") if isinstance(t, datetime) else ""
)
TEMPLATES.env.filters["d"] = lambda t: (
    shanghai(t).strftime("%Y-%m-%d") if isinstance(t, datetime) else ""
)

PLATFORMS = [(p.value, p.label) for p in Platform]
ORDER_STATUSES = [(s.value, label) for s, label in ORDER_STATUS_LABELS.items()]
INVOICE_STATUSES = [(s.value, label) for s, label in INVOICE_STATUS_LABELS.items()]
REFUND_STATUSES = [(s.value, label) for s, label in REFUND_STATUS_LABELS.items()]
TABS = [(t.value, label) for t, label in TAB_LABELS.items()]
ACTION_NAMES = lifecycle.EVENT_LABELS

# 补充信息 fields in the guide's order: (field, label, placeholder); labels from the domain.
SUPPLEMENTARY_PLACEHOLDERS = {
    "contract_name": "同发票抬头",
    "service_market_order_no": "电商平台订单号（必填）",
    "shop_name": "电商平台店铺名称（必填）",
    "seller_nick": "电商平台登录账号（必填）",
    "baison_staff": "填写百胜当地工程师全称（必填）",
    "reminder_name": "填写接收人真实姓名（必填）",
    "reminder_mobile": "填写接收人真实手机（必填）",
    "reminder_email": "填写接收人真实邮箱（必填）",
    "reminder_backup_email": "填写接收人邮箱（选填）",
}
SUPPLEMENTARY_FIELDS = [
    (name, SUPPLEMENTARY_LABELS[name], placeholder)
    for name, placeholder in SUPPLEMENTARY_PLACEHOLDERS.items()
]


# Where each role lands after signing in, and when it opens a page not meant for it.
HOME = {
    Role.BUYER: "/my/orders",
    Role.REVIEWER: "/admin/orders",
    Role.FINANCE: "/finance",
    Role.ADMIN: "/admin/orders",
}


async def page_user(request: Request) -> Actor | None:
    token = request.cookies.get(TOKEN_COOKIE)
    state = app_state(request)
    caller = await signed_in(state, token) if token else None
    if caller is not None and caller.actor.role is Role.BUYER:
        # For the header of whatever page this buyer opens (``render`` shows it).
        async with state.sessions() as session:
            request.state.unread_messages = await messages.unread_count(
                session=session, buyer=caller.actor.username
            )
    return caller.actor if caller else None


PageUser = Annotated[Actor | None, Depends(page_user)]


class PageRedirect(Exception):  # noqa: N818 - control flow, not an error
    """Raised by the page dependencies: answered with a redirect instead of problem+json."""

    def __init__(self, response: RedirectResponse) -> None:
        self.response = response


class PageMissing(Exception):  # noqa: N818 - control flow, not an error
    """Raised by a page whose record does not exist or is not the visitor's: answered with
    the 404 page (not problem+json, and not telling which of the two it was)."""

    def __init__(self, me: Actor, what: str) -> None:
        self.me = me
        self.what = what


def page_role(roles: Collection[Role]) -> Callable[[Request, Actor | None], Actor]:
    """A page's dependency: the signed-in actor of one of ``roles``, else a redirect."""

    def signed_in(request: Request, me: PageUser) -> Actor:
        if me is None:
            raise PageRedirect(redirect(f"/login?next={request.url.path}"))
        if me.role not in roles:
            raise PageRedirect(redirect(HOME[me.role], err="当前账号无权访问该页面"))
        return me

    return signed_in


BuyerPage = Annotated[Actor, Depends(page_role(BUYERS))]
ReviewerPage = Annotated[Actor, Depends(page_role(REVIEWERS))]
FinancePage = Annotated[Actor, Depends(page_role(FINANCE_STAFF))]
StaffPage = Annotated[Actor, Depends(page_role(STAFF))]


FLASH_COOKIE = "flash"
# What a refused form typed, for its page (api.web.kept_forms); cleared as the flash is.
KEPT_FORM_COOKIE = "kept_form"
# Long enough for the browser to follow the redirect, short enough to never meet a later page.
FLASH_MAX_AGE_SECONDS = 60
FLASH_KINDS = {"ok": "ok", "err": "error"}
# A refusal sentence is short; the cap keeps the cookie well under browsers' 4 KB.
FLASH_MAX_CHARS = 500


def encode_flashes(flashes: list[tuple[str, str]]) -> str:
    return base64.urlsafe_b64encode(json.dumps(flashes, ensure_ascii=False).encode()).decode()


def decode_flashes(value: str) -> list[tuple[str, str]]:
    """The flashes a redirect left, or none for anything this site did not write."""
    try:
        items = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError):
        return []
    if not isinstance(items, list):
        return []
    return [
        (item[0], item[1][:FLASH_MAX_CHARS])
        for item in items
        if isinstance(item, list)
        and len(item) == 2
        and item[0] in FLASH_KINDS.values()
        and isinstance(item[1], str)
    ]


def render(
    request: Request, template: str, me: Actor | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    left = request.cookies.get(FLASH_COOKIE)
    flashes = decode_flashes(left) if left else []
    flashes += context.pop("extra_flashes", [])
    settings = request.app.state.shop_orders.settings
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "me": me,
            "flashes": flashes,
            "dev": settings.environment == "development",
            "csrf_token": page_token(request),
            "unread_messages": getattr(request.state, "unread_messages", 0),
            **context,
        },
        status_code=status_code,
    )
    if left is not None:  # shown once: a reload repeats nothing
        response.delete_cookie(FLASH_COOKIE, path="/")
    if KEPT_FORM_COOKIE in request.cookies:
        response.delete_cookie(KEPT_FORM_COOKIE, path="/")
    return response


def redirect(path: str, **flash: str) -> RedirectResponse:
    """Post/redirect/get; the outcome (``ok=`` or ``err=`` text) rides in the flash cookie.
    Only ever to a path of this site: a target from a header or a form that names another
    site goes to the home page instead (callers may offer a better fallback first)."""
    response = RedirectResponse(local_path(path, "/"), status_code=303)
    flashes = [(FLASH_KINDS[k], v[:FLASH_MAX_CHARS]) for k, v in flash.items() if v]
    if flashes:
        response.set_cookie(
            FLASH_COOKIE,
            encode_flashes(flashes),
            max_age=FLASH_MAX_AGE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
        )
    return response


def referring_page(request: Request, default: str) -> str:
    """The path and query of the page a form was posted from (its Referer), so an answer
    goes back to the same page of a list; ``default`` when the browser sent none."""
    referer = str(request.headers.get("referer") or "")
    if referer.startswith("http") and referer.count("/") >= 3:
        return local_path("/" + referer.split("/", 3)[3], default)
    return default


def local_path(target: str, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects).
    Browsers read a backslash as a slash, so ``/\\host`` is another site just as ``//host``."""
    on_site = target.startswith("/") and target[1:2] not in ("/", "\\")
    return target if on_site else default


def _form_field(location: tuple[str | int, ...]) -> str:
    """The form field a validation error's location names: the checkout's typed consignee
    is ``consignee.mobile`` in the model and ``consignee_mobile`` in the form."""
    if not location:
        return "form"
    if location[0] == "consignee" and len(location) > 1:
        return f"consignee_{location[1]}"
    return str(location[0])


def field_errors(error: Problem | ValidationError) -> dict[str, str]:
    """Per-field messages of a 422, keyed by the form field's name."""
    if isinstance(error, ValidationError):
        return {_form_field(e["loc"]): chinese_message(e) for e in error.errors()}
    return {
        str(e.get("field", "")).split(".")[0].split("[")[0]: str(e.get("message", ""))
        for e in (error.errors or [])
    }


# Past any list's last page (and within what the databases take as an offset).
MAX_PAGE_NUMBER = 1_000_000


def page_number(request: Request) -> int:
    """The ``page`` asked for, from 1; anything else is the first page."""
    number = number_in(request.query_params.get("page", "1"))
    return number if number is not None and 1 <= number <= MAX_PAGE_NUMBER else 1


def number_in(text: str) -> int | None:
    """The whole number ``text`` writes in ASCII digits (a link typed by hand may hold
    anything: '²' passes str.isdigit but not int()), or None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def query_link(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    params.pop("ok", None)
    params.pop("err", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params)
