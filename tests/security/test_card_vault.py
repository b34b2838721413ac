"""The card vault.

Threat: a card row copied to another buyer, a key rotated away, a correction losing the
card, or a buyer or reviewer reading the full number.

Control: AES-GCM under an HKDF sub-key of the payload key, bound to the row's owner and
reference, key id per row; finance/admin only for full numbers; a correction without a
number keeps the card on file.

The card vault: cards kept encrypted by the API, the run holding a reference, the full
number read back only by finance (page and payout export).
"""

from __future__ import annotations

import csv
import io

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.card_cipher import CardCipher
from db import models
from tests.security.cards import agreed_refund, applied_refund, distinctive_card, middle_of
from tests.support.http_api import Api, ok, refund_chosen, signed_in_pages
from tests.support.samples import REFUND_FORM, unique
from workflows.codec import UnknownKeyError, parse_keys
from workflows.codec import new_key_text as key_text

DUE_CSV = "/api/finance/payouts/due.csv"


def test_seal_then_open_after_rotation_uses_the_stored_key_id() -> None:
    old = key_text("k1")
    sealed = CardCipher(parse_keys(old)).seal("6222021234567891234", owner="a", card_ref="r")
    rotated = CardCipher(parse_keys(f"{key_text('k2')},{old}"))
    assert rotated.open(sealed, owner="a", card_ref="r") == "6222021234567891234"
    assert rotated.seal("6222021234567891234", owner="a", card_ref="r").key_id == "k2"
    assert sealed.key_id == "k1" and b"6222021234567891234" not in sealed.ciphertext


def test_open_a_card_moved_to_another_owner_is_refused() -> None:
    cipher = CardCipher(parse_keys(key_text("k1")))
    sealed = cipher.seal("6222021234567891234", owner="leiliang", card_ref="r")
    with pytest.raises(InvalidTag):
        cipher.open(sealed, owner="hanmeimei", card_ref="r")


def test_open_with_an_unknown_key_id_is_refused() -> None:
    sealed = CardCipher(parse_keys(key_text("k1"))).seal(
        "6222021234567891234", owner="a", card_ref="r"
    )
    with pytest.raises(UnknownKeyError):
        CardCipher(parse_keys(key_text("other"))).open(sealed, owner="a", card_ref="r")


def test_reference_is_the_same_for_the_same_buyer_and_card_only() -> None:
    cipher = CardCipher(parse_keys(key_text("k1")))
    ref = cipher.reference("6222021234567891234", owner="leiliang")
    assert ref == cipher.reference("6222021234567891234", owner="leiliang")
    assert ref != cipher.reference("6222021234567891234", owner="hanmeimei")
    assert ref != cipher.reference("6222021234567891235", owner="leiliang")
    assert len(ref) == 32 and set(ref) <= set("0123456789abcdef")


async def _vault_row(
    session_maker: async_sessionmaker[AsyncSession], card_ref: str
) -> models.BankCard | None:
    async with session_maker() as session:
        return await session.scalar(
            select(models.BankCard).where(models.BankCard.card_ref == card_ref)
        )


async def test_apply_refund_keeps_the_card_encrypted_and_the_run_holds_its_reference(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    card_no = distinctive_card()
    order_no, _ = await applied_refund(api, card_no)
    buyer = await api.login("leiliang")
    order = await ok(api.http.get(f"/api/orders/{order_no}", headers=buyer))
    assert order["refund"]["card_no_masked"] == f"{card_no[:4]} **** **** {card_no[-4:]}"

    async with session_maker() as session:
        state = (await session.get(models.Order, order_no)).state  # type: ignore[union-attr]
    card = state["refund"]["card"]
    assert card["card_no_masked"] == order["refund"]["card_no_masked"]
    row = await _vault_row(session_maker, card["card_ref"])
    assert row is not None
    assert (row.owner, row.key_id, row.masked) == ("leiliang", "test1", card["card_no_masked"])
    assert card_no.encode() not in row.ciphertext


async def test_edit_refund_without_a_card_keeps_the_card_on_file(api: Api) -> None:
    card_no = distinctive_card()
    order_no, refund_id = await applied_refund(api, card_no)
    reviewer, buyer = await api.login("bmp"), await api.login("leiliang")
    reason = {"reason": "开户支行填写有误"}
    await ok(api.http.post(f"/api/admin/refunds/{refund_id}/return", json=reason, headers=reviewer))
    without_card = {k: v for k, v in REFUND_FORM.items() if k != "card_no"}
    edited = await ok(
        api.http.put(
            f"/api/orders/{order_no}/refund",
            data=without_card | {"branch": "上海浦东支行"},
            headers=buyer,
        )
    )
    assert (edited["status"], edited["branch"], edited["card_no_masked"]) == (
        "applied",
        "上海浦东支行",
        f"{card_no[:4]} **** **** {card_no[-4:]}",
    )
    await ok(api.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer))
    due = await ok_csv(api, await api.login("finance"))
    assert due[refund_id]["银行卡号"] == card_no


async def test_edit_refund_with_a_new_card_pays_to_the_new_card(api: Api) -> None:
    first, second = distinctive_card(), distinctive_card()
    order_no, refund_id = await applied_refund(api, first)
    reviewer, buyer = await api.login("bmp"), await api.login("leiliang")
    reason = {"reason": "银行卡号有误"}
    await ok(api.http.post(f"/api/admin/refunds/{refund_id}/return", json=reason, headers=reviewer))
    edited = await ok(
        api.http.put(
            f"/api/orders/{order_no}/refund",
            data=REFUND_FORM | {"card_no": second},
            headers=buyer,
        )
    )
    assert edited["card_no_masked"] == f"{second[:4]} **** **** {second[-4:]}"
    await ok(api.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer))
    due = await ok_csv(api, await api.login("finance"))
    assert due[refund_id]["银行卡号"] == second


async def test_apply_refund_without_a_card_is_422_and_files_nothing(api: Api) -> None:
    buyer = await api.login("leiliang")
    order_no = await refund_chosen(api)
    without_card = {k: v for k, v in REFUND_FORM.items() if k != "card_no"}
    response = await api.http.post(
        f"/api/orders/{order_no}/refund",
        data=without_card | {"refund_type": "enterprise"},
        headers=buyer,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "card_no", "message": "请填写银行卡号"}]
    assert (await ok(api.http.get(f"/api/orders/{order_no}", headers=buyer)))["refund"] is None


async def test_apply_refund_retried_with_its_key_is_one_refund(api: Api) -> None:
    buyer = await api.login("leiliang")
    order_no = await refund_chosen(api)
    form = REFUND_FORM | {"refund_type": "enterprise", "card_no": distinctive_card()}
    headers = buyer | {"Idempotency-Key": unique("refund-")}
    first = await ok(
        api.http.post(f"/api/orders/{order_no}/refund", data=form, headers=headers), 201
    )
    again = await ok(
        api.http.post(f"/api/orders/{order_no}/refund", data=form, headers=headers), 201
    )
    assert again["refund_id"] == first["refund_id"]
    assert [entry["action"] for entry in again["log"]] == ["申请退款!"]


async def ok_csv(api: Api, headers: dict[str, str]) -> dict[str, dict[str, str]]:
    """The payouts-due export, by refund id."""
    response = await api.http.get(DUE_CSV, headers=headers)
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, as the upload reads it
    assert response.headers["cache-control"] == "no-store"
    rows = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    return {row["退款编号"]: row for row in rows}


async def test_payouts_due_csv_gives_finance_the_full_card_number(api: Api) -> None:
    card_no = distinctive_card()
    order_no, refund_id = await agreed_refund(api, card_no)
    due = await ok_csv(api, await api.login("finance"))
    assert due[refund_id] == {
        "退款编号": refund_id,
        "主订单号": order_no,
        "开户名": "快乐贸易有限公司",
        "开户行": "中国工商银行",
        "开户支行": "上海陆家嘴支行",
        "所属地区": "上海市",
        "银行卡号": card_no,
        "退款金额(元)": "1000.00",
        "银行流水号": "",
    }


async def test_payouts_due_csv_filled_in_confirms_the_payouts_when_uploaded(api: Api) -> None:
    _, refund_id = await agreed_refund(api, distinctive_card())
    finance = await api.login("finance")
    response = await api.http.get(DUE_CSV, headers=finance)
    reference = unique("ICBC")
    lines = response.content.decode("utf-8-sig").splitlines()
    mine = [f"{line}{reference}" for line in lines[1:] if line.startswith(f"{refund_id},")]
    body = ("\ufeff" + "\r\n".join([lines[0], *mine]) + "\r\n").encode("utf-8")
    report = await ok(
        api.http.post(
            "/api/finance/payouts/batch",
            files={"file": ("due.csv", body, "text/csv")},
            headers=finance,
        )
    )
    assert [(line["refund_id"], line["outcome"]) for line in report["applied"]] == [
        (refund_id, "applied")
    ]
    paid = await ok(api.http.get(f"/api/refunds/{refund_id}", headers=finance))
    assert (paid["status"], paid["bank_reference"]) == ("refunded", reference)


@pytest.mark.parametrize("username", ["leiliang", "bmp"])
async def test_payouts_due_csv_is_403_for_buyers_and_reviewers(api: Api, username: str) -> None:
    response = await api.http.get(DUE_CSV, headers=await api.login(username))
    assert response.status_code == 403


async def test_finance_page_shows_the_full_number_and_the_reviewers_only_the_masked(
    api: Api,
) -> None:
    card_no = distinctive_card()
    order_no, refund_id = await agreed_refund(api, card_no)
    masked = f"{card_no[:4]} **** **** {card_no[-4:]}"
    finance = await signed_in_pages(api, "finance")
    reviewer = await signed_in_pages(api, "bmp")
    try:
        waiting = await finance.get("/finance")
        assert card_no in waiting.text and waiting.headers["cache-control"] == "no-store"
        for path in (f"/admin/refunds/{refund_id}", f"/admin/orders/{order_no}"):
            page = await reviewer.get(path)
            assert page.status_code == 200 and masked in page.text
            assert middle_of(card_no) not in page.text
        assert card_no not in (await reviewer.get("/finance")).text
    finally:
        await finance.aclose()
        await reviewer.aclose()


async def test_correction_page_left_without_a_card_keeps_the_card_on_file(api: Api) -> None:
    card_no = distinctive_card()
    order_no, refund_id = await applied_refund(api, card_no)
    reason = {"reason": "开户支行填写有误"}
    reviewer = await api.login("bmp")
    await ok(api.http.post(f"/api/admin/refunds/{refund_id}/return", json=reason, headers=reviewer))
    buyer = await signed_in_pages(api, "leiliang")
    try:
        form = await buyer.get(f"/my/orders/{order_no}/refund")
        shown = f"{card_no[:4]} **** **** {card_no[-4:]}"
        assert f"不填则沿用 {shown}" in form.text and middle_of(card_no) not in form.text
        fields = {k: v for k, v in REFUND_FORM.items() if k != "card_no"}
        sent = await buyer.post(f"/my/orders/{order_no}/refund", data=fields | {"card_no": ""})
        assert "退款申请已提交" in sent.text
    finally:
        await buyer.aclose()
    refund = await ok(api.http.get(f"/api/refunds/{refund_id}", headers=reviewer))
    assert (refund["status"], refund["card_no_masked"]) == ("applied", shown)
