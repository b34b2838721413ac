"""Every route of the app and who may use it (API.md), with the means to try a route as a
role: the reliability suite's access matrix and its database-outage test read it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import csrf
from api.auth import TOKEN_COOKIE, read_token
from domain.order import Actor
from domain.statuses import Role
from tests.support.http_api import Api, session_token

ANYONE = "anyone"
SIGNED_IN = "signed in"
BUYER = frozenset({"buyer"})
REVIEWER = frozenset({"reviewer", "admin"})
FINANCE = frozenset({"finance", "admin"})
STAFF = frozenset({"reviewer", "finance", "admin"})
ROLES = ("anonymous", "buyer", "reviewer", "finance", "admin")

# Every route of the app and who may use it (API.md); a route missing here fails the test.
WHO: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/docs"): ANYONE,
    ("GET", "/docs/oauth2-redirect"): ANYONE,
    ("GET", "/metrics"): ANYONE,
    ("GET", "/api/health"): ANYONE,
    ("POST", "/api/auth/token"): ANYONE,
    ("POST", "/api/auth/logout"): SIGNED_IN,
    ("GET", "/api/me"): SIGNED_IN,
    ("PUT", "/api/me"): SIGNED_IN,
    ("POST", "/api/me/password"): SIGNED_IN,
    ("GET", "/api/catalog/products"): ANYONE,
    ("GET", "/api/messages"): BUYER,
    ("POST", "/api/messages/{message_id}/read"): BUYER,
    ("POST", "/api/messages/read-all"): BUYER,
    ("GET", "/api/invoice-profiles"): BUYER,
    ("POST", "/api/invoice-profiles"): BUYER,
    ("PUT", "/api/invoice-profiles/{profile_id}"): BUYER,
    ("DELETE", "/api/invoice-profiles/{profile_id}"): BUYER,
    ("GET", "/api/addresses"): BUYER,
    ("POST", "/api/addresses"): BUYER,
    ("PUT", "/api/addresses/{address_id}"): BUYER,
    ("DELETE", "/api/addresses/{address_id}"): BUYER,
    ("POST", "/api/orders"): BUYER,
    ("GET", "/api/orders"): BUYER,
    ("GET", "/api/orders/{order_no}"): SIGNED_IN,
    ("PUT", "/api/orders/{order_no}"): BUYER,
    ("POST", "/api/orders/{order_no}/confirm-receipt"): BUYER,
    ("POST", "/api/orders/{order_no}/refund-decision"): BUYER,
    ("POST", "/api/orders/{order_no}/refund"): BUYER,
    ("PUT", "/api/orders/{order_no}/refund"): BUYER,
    ("GET", "/api/refunds"): SIGNED_IN,
    ("GET", "/api/refunds/{refund_id}"): SIGNED_IN,
    ("GET", "/api/refunds/{refund_id}/proof"): SIGNED_IN,
    ("GET", "/api/invoices"): SIGNED_IN,
    ("GET", "/api/invoices/{invoice_app_no}"): SIGNED_IN,
    ("PUT", "/api/invoices/{invoice_app_no}"): BUYER,
    ("GET", "/api/admin/orders"): REVIEWER,
    ("GET", "/api/admin/queues"): REVIEWER,
    ("POST", "/api/admin/orders/{order_no}/approve"): REVIEWER,
    ("POST", "/api/admin/orders/{order_no}/return"): REVIEWER,
    ("POST", "/api/admin/orders/{order_no}/void"): REVIEWER,
    ("POST", "/api/admin/orders/{order_no}/settlement"): REVIEWER,
    ("POST", "/api/admin/refunds/{refund_id}/agree"): REVIEWER,
    ("POST", "/api/admin/refunds/{refund_id}/return"): REVIEWER,
    ("GET", "/api/admin/invoices"): REVIEWER,
    ("POST", "/api/admin/invoices/{invoice_app_no}/issue"): REVIEWER,
    ("POST", "/api/admin/invoices/{invoice_app_no}/ship"): REVIEWER,
    ("POST", "/api/admin/invoices/{invoice_app_no}/return"): REVIEWER,
    ("GET", "/api/finance/refunds"): FINANCE,
    ("POST", "/api/finance/refunds/{refund_id}/payout"): FINANCE,
    ("GET", "/api/finance/payouts"): FINANCE,
    ("POST", "/api/finance/payouts/batch"): FINANCE,
    ("GET", "/api/finance/payouts/daily"): FINANCE,
    ("GET", "/api/finance/payouts/due.csv"): FINANCE,
    ("POST", "/codec/decode"): STAFF,
    # The pages (a refusal is a redirect: to sign-in, or home with "当前账号无权访问该页面").
    ("GET", "/"): ANYONE,
    ("GET", "/login"): ANYONE,
    ("POST", "/login"): ANYONE,
    ("POST", "/logout"): ANYONE,
    ("GET", "/shop"): BUYER,
    ("GET", "/shop/{code}"): BUYER,
    ("GET", "/shop/{code}/checkout"): BUYER,
    ("POST", "/shop/{code}/checkout"): BUYER,
    ("GET", "/shop/{code}/agreement"): BUYER,
    ("POST", "/shop/{code}/checkout/profile"): BUYER,
    ("POST", "/shop/{code}/checkout/profile/{profile_id}/delete"): BUYER,
    ("POST", "/shop/{code}/checkout/profile/{profile_id}"): BUYER,
    ("GET", "/my/profiles"): BUYER,
    ("POST", "/my/profiles"): BUYER,
    ("POST", "/my/profiles/{profile_id}"): BUYER,
    ("POST", "/my/profiles/{profile_id}/delete"): BUYER,
    ("GET", "/my/addresses"): BUYER,
    ("POST", "/my/addresses"): BUYER,
    ("POST", "/my/addresses/{address_id}"): BUYER,
    ("POST", "/my/addresses/{address_id}/default"): BUYER,
    ("POST", "/my/addresses/{address_id}/delete"): BUYER,
    ("GET", "/my/orders"): BUYER,
    ("GET", "/my/orders/{order_no}"): BUYER,
    ("POST", "/my/orders/{order_no}/confirm-receipt"): BUYER,
    ("POST", "/my/orders/{order_no}/refund-decision"): BUYER,
    ("GET", "/my/orders/{order_no}/edit"): BUYER,
    ("POST", "/my/orders/{order_no}/edit"): BUYER,
    ("GET", "/my/orders/{order_no}/refund"): BUYER,
    ("POST", "/my/orders/{order_no}/refund"): BUYER,
    ("GET", "/my/refunds"): BUYER,
    ("GET", "/my/refunds/{refund_id}"): BUYER,
    ("GET", "/my/invoices"): BUYER,
    ("GET", "/my/invoices/{invoice_app_no}"): BUYER,
    ("GET", "/my/invoices/{invoice_app_no}/edit"): BUYER,
    ("POST", "/my/invoices/{invoice_app_no}/edit"): BUYER,
    ("GET", "/my/messages"): BUYER,
    ("POST", "/my/messages/{message_id}/read"): BUYER,
    ("POST", "/my/messages/read-all"): BUYER,
    ("GET", "/my/account"): BUYER,
    ("POST", "/my/account"): BUYER,
    ("POST", "/my/account/password"): BUYER,
    ("GET", "/admin/orders"): REVIEWER,
    ("GET", "/admin/orders/{order_no}"): REVIEWER,
    ("POST", "/admin/orders/{order_no}/{action}"): REVIEWER,
    ("GET", "/admin/refunds"): STAFF,
    ("GET", "/admin/refunds/{refund_id}"): STAFF,
    ("POST", "/admin/refunds/{refund_id}/{action}"): REVIEWER,
    ("GET", "/admin/invoices"): REVIEWER,
    ("GET", "/admin/invoices/{invoice_app_no}"): REVIEWER,
    ("POST", "/admin/invoices/{invoice_app_no}/{action}"): REVIEWER,
    ("GET", "/finance"): FINANCE,
    ("POST", "/finance/batch"): FINANCE,
    ("POST", "/finance/refunds/{refund_id}/payout"): FINANCE,
    ("GET", "/finance/ledger"): FINANCE,
    # The local mail catcher's inbox: every signed-in demo user, in development only.
    ("GET", "/dev/mail"): SIGNED_IN,
}

DUMMY = {
    "order_no": "BS-ZX202210181408310000",
    "refund_id": "TK202210181408310000",
    "invoice_app_no": "KP_202210_00000000",
    "profile_id": "2147483000",
    "message_id": "2147483000",
    "address_id": "2147483000",
    "code": "JD0001",
    "action": "approve",
}


def allowed(who: str | frozenset[str], role: str) -> bool:
    if who == ANYONE:
        return True
    if who == SIGNED_IN:
        return role != "anonymous"
    assert isinstance(who, frozenset)
    return role in who


def page_headers(api: Api, token: str) -> dict[str, str]:
    """The sign-in cookie, sent as from the site's own pages with the session's form token."""
    signed_in = read_token(api.settings, token)
    assert signed_in is not None
    return {
        "Cookie": f"{TOKEN_COOKIE}={token}",
        "Origin": str(api.http.base_url).rstrip("/"),
        "X-CSRF-Token": csrf.session_token(api.settings, signed_in.session_id),
    }


async def credentials(
    api: Api, sessions: async_sessionmaker[AsyncSession], role: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Bearer header and page headers of a made-up user of ``role`` (nobody's data), signed
    in afresh (the matrix signs out too)."""
    if role == "anonymous":
        return {}, {}
    actor = Actor(username=f"matrix-{role}", role=Role(role))
    token = await session_token(sessions, api.settings, actor)
    return {"Authorization": f"Bearer {token}"}, page_headers(api, token)
