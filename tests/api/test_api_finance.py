"""Finance: batch payout confirmation from the bank's file, and daily totals of the ledger."""

from __future__ import annotations

from tests.support.http_api import Api, agreed_refund
from tests.support.samples import ENTERPRISE_REFUND_FORM, unique


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
