"""Redirects after a back-office form.

Threat: an action's answer sends the reviewer to another site (an open redirect), by a
Referer such as ``https://shop//evil.example/x`` whose path starts with ``//``.

Control: every page redirect goes through one function that only sends to a path of this
site; the back-office forms fall back to 开票管理.
"""

from __future__ import annotations

import pytest

from api.web.plumbing import redirect
from tests.support.http_api import Api, signed_in_pages


async def test_invoice_action_with_a_foreign_referer_stays_on_the_site(api: Api) -> None:
    reviewer = await signed_in_pages(api, "bmp")
    origin = str(api.http.base_url).rstrip("/")
    for referer in (f"{origin}//evil.example/x", f"{origin}/admin/orders"):
        answer = await reviewer.post(
            "/admin/invoices/KP_202611_99999999/unknown",
            headers={"Referer": referer},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith("/") and not location.startswith("//"), location
    assert location == "/admin/orders"  # a path of the site is honoured


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_no_page_redirect_leaves_the_site(target: str) -> None:
    assert redirect(target, ok="已保存").headers["location"] == "/"
