"""Who may use which route, and what one buyer can learn of another's data: every route of
the app against every role, every buyer-facing route against another buyer's resources."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Mount

from api.web.plumbing import FLASH_COOKIE, decode_flashes
from tests.reliability.report import Section
from tests.reliability.route_access import DUMMY, ROLES, WHO, allowed, credentials, page_headers
from tests.support import jd_walk
from tests.support.http_api import Api, ok, refund_chosen
from tests.support.samples import CARD_NO, PDF, PROFILE, REFUND_FORM, order_body

NO_RIGHT = "当前账号无权访问该页面"


def routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route, through included routers; HEAD left out."""

    def walk(candidates: Any) -> Iterator[tuple[str, str]]:
        for route in candidates:
            if isinstance(route, _IncludedRouter):
                yield from walk(route.effective_route_contexts())
            elif isinstance(route, Mount):
                continue
            else:
                for method in sorted(getattr(route, "methods", None) or ()):
                    if method != "HEAD":
                        yield method, route.path

    yield from walk(app.routes)


def _refused(method: str, path: str, role: str, response: httpx.Response) -> bool:
    if path.startswith(("/api/", "/codec/")):
        expected = 401 if role == "anonymous" else 403
        if response.status_code == expected:
            assert response.headers["content-type"] == "application/problem+json"
            return True
        return False
    location = unquote(response.headers.get("location", ""))
    return response.status_code == 303 and (
        location.startswith("/login?next=") or NO_RIGHT in _flash(response)
    )


def _flash(response: httpx.Response) -> str:
    """The text a page redirect leaves for the next page (the flash cookie)."""
    cookie = response.cookies.get(FLASH_COOKIE)
    return " ".join(text for _, text in decode_flashes(cookie)) if cookie else ""


async def test_every_route_refuses_every_role_that_may_not_use_it(
    api: Api, session_maker: async_sessionmaker[AsyncSession], report: Section
) -> None:
    """Role × route matrix

    Every route of the API and of the pages, asked by an anonymous caller and by each role:
    the roles that may not use it are refused (401/403 problem+json, or the pages' redirect
    to sign-in or home), the others get past the guard. A new route without an entry in the
    matrix fails the test.
    """
    from api.app import create_app

    app = create_app(api.settings)
    found = set(routes(app))
    assert found == set(WHO), (
        f"routes without an entry: {sorted(found - set(WHO))}; "
        f"entries without a route: {sorted(set(WHO) - found)}"
    )
    checked = refused = 0
    wrong: list[str] = []
    http = api.http
    for (method, template), who in sorted(WHO.items()):
        path = template.format(**{k: v for k, v in DUMMY.items() if "{" + k + "}" in template})
        for role in ROLES:
            bearer, cookie = await credentials(api, session_maker, role)
            http.cookies.clear()
            page = not template.startswith(("/api/", "/codec/"))
            kwargs: dict[str, Any] = {"headers": cookie if page else bearer}
            if method in ("POST", "PUT") and template.startswith(("/api/", "/codec/")):
                kwargs["json"] = {}
            elif method == "POST":
                kwargs["data"] = {}
            response = await http.request(method, path, **kwargs)
            http.cookies.clear()
            checked += 1
            was_refused = _refused(method, template, role, response)
            refused += was_refused
            if was_refused == allowed(who, role):
                wrong.append(f"{role} {method} {template}: {response.status_code}")
            if response.status_code >= 500:
                wrong.append(
                    f"{role} {method} {template}: {response.status_code} {response.text[:120]}"
                )
    report.count("routes (API and pages)", len(WHO))
    report.count("roles asked (anonymous, buyer, reviewer, finance, admin)", len(ROLES))
    report.count("requests", checked)
    report.count("refused as the matrix says", refused)
    assert wrong == []
    report.hold(
        "each route refused exactly the roles the matrix names (API: 401 signed out, 403 "
        "wrong role, as problem+json; pages: redirect to sign-in or home), let the others "
        "past its guard, and none answered 5xx"
    )
    report.hold("the matrix names every route the app serves, so a new route must be placed in it")


# The owner's card, unlike any other buyer's (they all file the sample card), so that its
# last digits showing up in another buyer's answers can only be a leak.
def _card_unlike_the_sample() -> str:
    while True:
        card = "6217" + "".join(secrets.choice("0123456789") for _ in range(15))
        if card[-4:] != CARD_NO[-4:]:
            return card


OWNER_CARD = _card_unlike_the_sample()
OWNER_CARD_MASKED = f"**** **** {OWNER_CARD[-4:]}"


async def _a_buyers_things(api: Api) -> dict[str, str]:
    """leiliang's order with a refund (proof uploaded) and invoices, and an invoice profile."""
    buyer = await api.login("leiliang")
    no = await refund_chosen(api)
    await jd_walk.apply_refund(api.send, no, form=REFUND_FORM | {"card_no": OWNER_CARD})
    order = await ok(api.http.get(f"/api/orders/{no}", headers=buyer))
    profile_id = await api.profile(buyer)
    return {
        "order_no": order["order_no"],
        "refund_id": order["refund"]["refund_id"],
        "invoice_app_no": order["invoices"][0]["invoice_app_no"],
        "profile_id": str(profile_id),
        "service_market_order_no": order["service_market_order_no"],
    }


MISSING = {
    "order_no": "BS-ZX202001010000000000",
    "refund_id": "TK202001010000000000",
    "invoice_app_no": "KP_202001_00000001",
    "profile_id": "2147483001",
}


def _requests(ids: dict[str, str], profile_of_caller: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Every buyer route that names a resource, with a body that would otherwise be valid."""
    no, refund, invoice, profile = (
        ids["order_no"],
        ids["refund_id"],
        ids["invoice_app_no"],
        ids["profile_id"],
    )
    refund_form = {"data": REFUND_FORM, "files": {"proof": ("p.pdf", PDF, "application/pdf")}}
    return [
        ("GET", f"/api/orders/{no}", {}),
        ("PUT", f"/api/orders/{no}", {"json": {"shop_name": "改名"}}),
        ("POST", f"/api/orders/{no}/confirm-receipt", {}),
        ("POST", f"/api/orders/{no}/refund-decision", {"json": {"decision": "no_refund"}}),
        ("POST", f"/api/orders/{no}/refund", refund_form),
        ("PUT", f"/api/orders/{no}/refund", refund_form),
        ("GET", f"/api/refunds/{refund}", {}),
        ("GET", f"/api/refunds/{refund}/proof", {}),
        ("GET", f"/api/invoices/{invoice}", {}),
        ("PUT", f"/api/invoices/{invoice}", {"json": {"title": "别人的公司"}}),
        ("PUT", f"/api/invoice-profiles/{profile}", {"json": PROFILE}),
        ("DELETE", f"/api/invoice-profiles/{profile}", {}),
        (
            "POST",
            "/api/orders",
            {"json": order_body(int(profile), service_market_order_no="SM-MATRIX-PROBE")},
        ),
        ("GET", f"/my/orders/{no}/edit", {"page": True}),
        ("POST", f"/my/orders/{no}/confirm-receipt", {"page": True, "data": {}}),
        ("GET", f"/my/orders/{no}/refund", {"page": True}),
        ("GET", f"/my/refunds/{refund}", {"page": True}),
        ("GET", f"/my/invoices/{invoice}/edit", {"page": True}),
        ("POST", f"/my/profiles/{profile}/delete", {"page": True, "data": {}}),
    ]


def _normalised(response: httpx.Response, ids: dict[str, str]) -> tuple[int, str]:
    location = unquote(response.headers.get("location", ""))
    text = f"{location} {_flash(response)} {response.text}"
    for name, value in ids.items():
        if value:  # the whole number only: a profile id "7" is not every 7
            text = re.sub(
                rf"(?<![0-9A-Za-z_]){re.escape(value)}(?![0-9A-Za-z_])", f"<{name}>", text
            )
    return response.status_code, re.sub(r"\s+", " ", text)


async def test_no_buyer_reads_or_changes_another_buyers_data(api: Api, report: Section) -> None:
    """Buyer × resource matrix

    Another buyer asking for or acting on a buyer's order, refund, invoice, invoice profile or
    proof file gets exactly the answer a missing one gets (404, or the page's "not found"),
    changes nothing, and finds none of it in any list or answer.
    """
    owner_ids = await _a_buyers_things(api)
    owner = await api.login("leiliang")
    other = await api.login("zhangsan")
    other_profile = await api.profile(other)
    token = other["Authorization"].removeprefix("Bearer ")
    before = (await api.http.get(f"/api/orders/{owner_ids['order_no']}", headers=owner)).json()
    profiles_before = (await api.http.get("/api/invoice-profiles", headers=owner)).json()

    differences: list[str] = []
    checked = 0
    with api.recording() as bodies:
        for (method, path, kwargs), (_, missing_path, missing_kwargs) in zip(
            _requests(owner_ids, other_profile),
            _requests(MISSING | {"service_market_order_no": ""}, other_profile),
            strict=True,
        ):
            answers = []
            for target, options in ((path, kwargs), (missing_path, missing_kwargs)):
                options = dict(options)
                page = options.pop("page", False)
                api.http.cookies.clear()
                if page:
                    options["headers"] = page_headers(api, token)
                else:
                    options["headers"] = other
                answers.append(await api.http.request(method, target, **options))
                api.http.cookies.clear()
            theirs, missing = answers
            checked += 1
            if _normalised(theirs, owner_ids) != _normalised(missing, MISSING):
                differences.append(
                    f"{method} {path}: {theirs.status_code} {theirs.text[:150]} vs "
                    f"{missing.status_code} {missing.text[:150]}"
                )
            api_route = path.startswith("/api/") and path != "/api/orders"
            if api_route and theirs.status_code != 404:
                differences.append(f"{method} {path}: {theirs.status_code}, not 404")
        lists = {
            "/api/orders": {"order_no": owner_ids["order_no"]},
            "/api/refunds": {"order_no": owner_ids["order_no"]},
            "/api/invoices": {"order_no": owner_ids["order_no"]},
        }
        for path, params in lists.items():
            for query in (params, {}):
                listed = await api.http.get(path, params=query, headers=other)
                assert listed.status_code == 200
                checked += 1
                if owner_ids["order_no"] in listed.text:
                    differences.append(f"{path}?{query} lists the other buyer's order")
        profiles = await api.http.get("/api/invoice-profiles", headers=other)
        assert owner_ids["profile_id"] not in {str(p["id"]) for p in profiles.json()}
        checked += 1
    # What the caller did not send itself must not come back (the numbers it asked for may).
    leaked = [
        value
        for value in (OWNER_CARD, OWNER_CARD_MASKED, owner_ids["service_market_order_no"])
        if any(value.encode() in body for body in bodies)
    ]
    after = (await api.http.get(f"/api/orders/{owner_ids['order_no']}", headers=owner)).json()
    profiles_after = (await api.http.get("/api/invoice-profiles", headers=owner)).json()

    report.count("requests by another buyer on a buyer's resources", checked)
    report.count("resource kinds (order, refund, proof, invoice, profile, lists, pages)", 7)
    assert differences == []
    report.hold(
        "every read or change of another buyer's order, refund, proof, invoice or profile got "
        "the very answer a missing one gets (404 problem+json, or the page's not-found "
        "redirect), so existence cannot be told"
    )
    assert leaked == []
    report.hold(
        "no answer to the other buyer carried anything of the owner's it did not send itself "
        "(service-market order number, bank card)"
    )
    assert (after["version"], after["events"]) == (before["version"], before["events"])
    assert profiles_after == profiles_before
    report.hold("nothing of the owner's changed: order version, audit trail and profiles as before")
