"""Redirects after a back-office form.

Threat: an action's answer sends the reviewer to another site (an open redirect), by a
Referer such as ``https://shop//evil.example/x`` whose path starts with ``//``.

Control: the page to go back to is taken from the Referer only when it is a path on this
site; anything else goes back to 开票管理.
"""

from __future__ import annotations

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
