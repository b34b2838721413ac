"""Finance: batch payout confirmation from the bank's file, and daily totals of the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import Problem
from api.services import commands, payout_batch
from domain.order import OrderState
from tests.support.http_api import Api, agreed_refund
from tests.support.orders import new_order, product
from tests.support.samples import ENTERPRISE_REFUND_FORM, FINANCE, unique


async def test_batch_payout_applies_good_lines_refuses_bad_ones_and_is_safe_to_repeat(
    api: Api,
) -> None:
    finance = await api.login("finance")
    good, short = await enterprise_refund_agreed(api), await enterprise_refund_agreed(api)
    reference = unique("ICBC")
    body = (
        "退款编号,退款金额(元),银行流水号\n"
        f"{good},1000.00,{reference}\n"
        f"{short},999.99,{unique('ICBC')}\n"
        "TK000000000000000000,1000.00,NOPE\n"
    ).encode("gb18030")
    first = await api.http.post(
        "/api/finance/payouts/batch",
        files={"file": ("bank.csv", body, "text/csv")},
        headers=finance,
    )
    assert first.status_code == 200, first.text
    report = first.json()
    assert [line["refund_id"] for line in report["applied"]] == [good]
    assert sorted(line["line"] for line in report["refused"]) == [3, 4]
    assert any("与同意退款的金额" in line["detail"] for line in report["refused"])

    again = (
        await api.http.post(
            "/api/finance/payouts/batch",
            files={"file": ("bank.csv", body, "text/csv")},
            headers=finance,
        )
    ).json()
    assert again["applied"] == [] and [line["refund_id"] for line in again["already_applied"]] == [
        good
    ]
    ledger = (
        await api.http.get("/api/finance/payouts", params={"page_size": 100}, headers=finance)
    ).json()
    assert [p["bank_reference"] for p in ledger["items"] if p["refund_id"] == good] == [reference]
    assert (await api.http.get(f"/api/refunds/{short}", headers=finance)).json()[
        "status"
    ] == "agreed"


async def test_batch_payout_without_the_needed_columns_is_422(api: Api) -> None:
    response = await api.http.post(
        "/api/finance/payouts/batch",
        files={"file": ("bank.csv", b"a,b\n1,2\n", "text/csv")},
        headers=await api.login("finance"),
    )
    assert response.status_code == 422 and "表头" in response.json()["detail"]


async def test_batch_payout_as_reviewer_is_403(api: Api) -> None:
    response = await api.http.post(
        "/api/finance/payouts/batch",
        files={"file": ("bank.csv", b"x", "text/csv")},
        headers=await api.login("bmp"),
    )
    assert response.status_code == 403


async def test_daily_totals_add_up_the_ledger(api: Api) -> None:
    finance = await api.login("finance")
    refund_id = await enterprise_refund_agreed(api)
    before = {
        d["day"]: d
        for d in (await api.http.get("/api/finance/payouts/daily", headers=finance)).json()
    }
    paid = await api.http.post(
        f"/api/finance/refunds/{refund_id}/payout",
        json={"amount_fen": 100_000, "bank_reference": unique("B")},
        headers=finance,
    )
    day = paid.json()["paid_at"][:10]
    after = {
        d["day"]: d
        for d in (await api.http.get("/api/finance/payouts/daily", headers=finance)).json()
    }
    earlier = before.get(day, {"payouts": 0, "amount_fen": 0})
    assert (after[day]["payouts"], after[day]["amount_fen"]) == (
        earlier["payouts"] + 1,
        earlier["amount_fen"] + 100_000,
    )


async def enterprise_refund_agreed(api: Api) -> str:
    """A JD order with an enterprise refund (no proof) the back office agreed to; its id."""
    return str((await agreed_refund(api, ENTERPRISE_REFUND_FORM))["refund_id"])


async def _batch_refused_by(
    monkeypatch: pytest.MonkeyPatch, refusal: Problem
) -> tuple[list[str], payout_batch.BatchReport]:
    """A batch of five lines whose every payout the order service refuses with ``refusal``:
    the refunds asked, and the report."""
    asked: list[str] = []

    async def visible(**kwargs: Any) -> OrderState:
        return new_order(product("JD0001"), order_no="BS-1", placed_at=datetime.now(UTC), tag="t")

    async def act(**kwargs: Any) -> OrderState:
        asked.append(kwargs["refund_id"])
        raise refusal

    monkeypatch.setattr(payout_batch.refunds, "visible", visible)
    monkeypatch.setattr(payout_batch.refunds, "act", act)
    lines = "".join(f"RF{n},10.00,BANK{n}\n" for n in range(5))
    report = await payout_batch.confirm_batch(
        session=cast(AsyncSession, None),
        client=cast(Client, None),
        actor=FINANCE,
        data=f"退款编号,退款金额(元),银行流水号\n{lines}".encode(),
        accept_within=timedelta(seconds=1),
    )
    assert [r.refund_id for r in report.refused] == [f"RF{n}" for n in range(5)]
    assert {r.detail for r in report.refused} == {payout_batch.NOT_ACCEPTED_LINE}
    assert not report.applied and not report.already_applied
    return asked, report


async def test_a_batch_stops_asking_once_the_order_service_accepts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No worker takes the tasks: the first line waits its acceptance bound and the lines
    after it are not sent (each would wait as long again: 2000 lines, hours); every one of
    them says, in Chinese, to upload the same file again later."""
    asked, _ = await _batch_refused_by(
        monkeypatch, commands.not_accepted(timedelta(seconds=1), keyed=True)
    )
    assert asked == ["RF0"]
    assert "Idempotency-Key" not in payout_batch.NOT_ACCEPTED_LINE


async def test_a_batch_line_whose_run_is_recovering_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked, _ = await _batch_refused_by(monkeypatch, commands.not_ready(keyed=True))
    assert asked == [f"RF{n}" for n in range(5)]
