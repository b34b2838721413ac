"""Bank card numbers nowhere in clear.

Threat: a card number leaks into workflow history (readable by anyone who reaches Temporal
or its UI), logs, e-mails, database columns or the pages of buyers and reviewers.

Control: claim check: the API keeps the card encrypted in the card vault and commands and
runs carry only its reference and masked form; finance alone reads it in full (payout page,
payout export); database errors never log bound values (`hide_parameters`).

A bank card number is nowhere in clear (DOMAIN.md §6): a refund paid to a card no other
test uses is driven through the real stack (dev server, worker and API as processes), then
every place it could have leaked to is searched for it — the run's history (raw, decoded,
and through /codec/decode), Temporal's own database file, the API and worker logs, every
column of every table, the e-mails, and what buyers and reviewers are shown. Only finance's
page and payout export show it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import Payload, Payloads

from settings import Settings
from tests.security.cards import applied_refund, distinctive_card, middle_of
from tests.support.http_api import Api, ok, signed_in_pages
from tests.support.samples import REFUND_FORM

pytestmark = pytest.mark.e2e


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere inside ``message`` (fields, lists and maps, at any depth)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if not field.is_repeated:
            yield from payloads_in(value)
            continue
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        items = value.values() if is_map else value
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


def found_in(haystack: str | bytes, cards: tuple[str, ...]) -> list[str]:
    """The cards (or the digits their masked form hides) that ``haystack`` holds."""
    needles = [n for card in cards for n in (card, middle_of(card))]
    if isinstance(haystack, bytes):
        return [n for n in needles if n.encode() in haystack]
    return [n for n in needles if n in haystack]


async def column_values(engine: AsyncEngine) -> dict[str, list[Any]]:
    """Every value of every column of every table, by table (raw SQL, no model)."""
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        values: dict[str, list[Any]] = {}
        for table in tables:
            rows = await connection.execute(text(f'SELECT * FROM "{table}"'))
            values[table] = [value for row in rows for value in row]
    return values


def as_searchable(value: Any) -> str | bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def leaks_in_files(paths: list[Path], cards: tuple[str, ...]) -> dict[str, list[str]]:
    """File name → what of the cards it holds, for the files that hold any."""
    found = {path.name: found_in(path.read_bytes(), cards) for path in paths}
    return {name: leaks for name, leaks in found.items() if leaks}


def files(directory: Path, pattern: str) -> list[Path]:
    return sorted(directory.glob(pattern))


def masked(card_no: str) -> str:
    return f"{card_no[:4]} **** **** {card_no[-4:]}"


Corrected = tuple[str, str, tuple[str, str]]


@pytest.fixture
async def corrected_refund(e2e: Api) -> Corrected:
    """A refund filed to one card, returned, corrected to another and agreed:
    (order no, refund id, (first card, card to pay))."""
    first, to_pay = distinctive_card(), distinctive_card()
    order_no, refund_id = await applied_refund(e2e, first)
    reviewer, buyer = await e2e.login("bmp"), await e2e.login("leiliang")
    reason = {"reason": "银行卡号有误"}
    await ok(e2e.http.post(f"/api/admin/refunds/{refund_id}/return", json=reason, headers=reviewer))
    corrected = REFUND_FORM | {"card_no": to_pay}
    await ok(e2e.http.put(f"/api/orders/{order_no}/refund", data=corrected, headers=buyer))
    await ok(e2e.http.post(f"/api/admin/refunds/{refund_id}/agree", json={}, headers=reviewer))
    return order_no, refund_id, (first, to_pay)


async def test_finance_page_and_export_show_the_card_to_pay(
    e2e: Api, corrected_refund: Corrected
) -> None:
    order_no, refund_id, (first, to_pay) = corrected_refund
    finance = await signed_in_pages(e2e, "finance")
    try:
        page = (await finance.get("/finance")).text
    finally:
        await finance.aclose()
    assert to_pay in page and first not in page
    export = await e2e.http.get("/api/finance/payouts/due.csv", headers=await e2e.login("finance"))
    assert f"{refund_id},{order_no}," in export.text and f",{to_pay}," in export.text
    assert first not in export.text


async def test_buyer_and_reviewer_views_show_the_card_masked_only(
    e2e: Api, corrected_refund: Corrected
) -> None:
    order_no, refund_id, cards = corrected_refund
    shown = masked(cards[1])
    buyer, reviewer = await e2e.login("leiliang"), await e2e.login("bmp")
    for headers in (buyer, reviewer):
        refused = await e2e.http.get("/api/finance/payouts/due.csv", headers=headers)
        assert refused.status_code == 403 and found_in(refused.text, cards) == []
    api_views = [
        (buyer, f"/api/orders/{order_no}", shown),
        (buyer, f"/api/refunds/{refund_id}", shown),
        (buyer, f"/api/refunds?order_no={order_no}", shown),
        (reviewer, f"/api/refunds/{refund_id}", shown),
        (reviewer, f"/api/refunds?order_no={order_no}", shown),
        (reviewer, f"/api/admin/orders?order_no={order_no}", shown),
    ]
    for headers, path, expected in api_views:
        answer = await e2e.http.get(path, headers=headers)
        assert answer.status_code == 200 and expected in answer.text, path
        assert found_in(answer.text, cards) == [], path
    page_views = {
        "leiliang": [
            ("/my/refunds", refund_id),
            (f"/my/refunds/{refund_id}", shown),
            (f"/my/orders?order_no={order_no}", order_no),
        ],
        "bmp": [
            ("/admin/refunds", refund_id),
            (f"/admin/refunds/{refund_id}", shown),
            (f"/admin/orders/{order_no}", shown),
            ("/finance", "无权"),
        ],
    }
    for username, views in page_views.items():
        pages = await signed_in_pages(e2e, username)
        try:
            for path, expected in views:
                page = await pages.get(path)
                assert expected in page.text, path
                assert found_in(page.text, cards) == [], path
        finally:
            await pages.aclose()


async def test_card_numbers_are_nowhere_in_clear_once_the_refund_is_paid(
    e2e: Api, e2e_settings: Settings, engine: AsyncEngine, corrected_refund: Corrected
) -> None:
    order_no, refund_id, cards = corrected_refund
    finance, reviewer = await e2e.login("finance"), await e2e.login("bmp")
    # Finance reads the numbers (logged as who read which refund) and pays out.
    due = await e2e.http.get("/api/finance/payouts/due.csv", headers=finance)
    assert cards[1] in due.text
    payout = {"amount_fen": 100_000, "bank_reference": f"ICBC{refund_id}"}
    paid = await ok(
        e2e.http.post(f"/api/finance/refunds/{refund_id}/payout", json=payout, headers=finance)
    )
    assert paid["status"] == "refunded"

    # The run's history: raw, every payload decoded, and the codec endpoint's answer.
    history = await e2e.temporal.get_workflow_handle(order_no).fetch_history()
    assert found_in(history.to_json(), cards) == []
    payloads = [p for event in history.events for p in payloads_in(event)]
    codec = e2e.temporal.data_converter.payload_codec
    assert codec is not None
    decoded = await codec.decode(payloads)
    # The decoding really opened the refund's payloads, masked card included.
    assert any(masked(cards[1]).encode() in p.data for p in decoded)
    assert [p for p in decoded if found_in(p.SerializeToString(), cards)] == []
    for headers in (reviewer, finance):
        answer = await e2e.http.post(
            "/codec/decode",
            json=json_format.MessageToDict(Payloads(payloads=payloads)),
            headers=headers,
        )
        assert answer.status_code == 200
        opened = json_format.ParseDict(answer.json(), Payloads()).payloads
        assert [p.data for p in opened] == [p.data for p in decoded]

    # Temporal's own database file, as stored on disk.
    temporal_files = files(e2e_settings.data_dir, "temporal.db*")
    assert temporal_files
    assert leaks_in_files(temporal_files, cards) == {}

    # Every column of every table of ours, the vault's ciphertext included.
    tables = await column_values(engine)
    assert {"bank_cards", "orders", "refunds"} <= set(tables)
    leaked = {
        table: [v for v in values if found_in(as_searchable(v), cards)]
        for table, values in tables.items()
    }
    assert {table: values for table, values in leaked.items() if values} == {}
    assert any(masked(cards[1]) in as_searchable(v) for v in tables["refunds"])

    # The API's and the worker's logs, and every e-mail about the order.
    logs = files(e2e_settings.data_dir / "logs", "*.log")
    assert {path.stem for path in logs} >= {"api", "worker"}
    assert leaks_in_files(logs, cards) == {}
    mails = e2e.smtp.for_order(order_no)
    assert len(mails) >= 2
    assert [m["Subject"] for m in mails if found_in(m.as_string(), cards)] == []


async def test_codec_decode_is_refused_to_buyers(e2e: Api) -> None:
    answer = await e2e.http.post(
        "/codec/decode",
        json={"payloads": []},
        headers=await e2e.login("leiliang"),
    )
    assert answer.status_code == 403


def test_found_in_sees_a_card_and_its_hidden_digits() -> None:
    card = "6217000011112222333"
    assert found_in(f"x{card}x", (card,)) == [card, middle_of(card)]
    assert found_in(b"..00001111222..", (card,)) == [middle_of(card)]
    assert found_in("6217 **** **** 2333", (card,)) == []
