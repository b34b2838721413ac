"""The daily digest (DOMAIN.md "Back-office work queues"): every morning finance gets the
payouts due with a CSV of them and yesterday's paid total, the reviewers each queue's count.
What the e-mails say is decided here; activities/digest.py reads the data and sends them."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel

from domain.calendar import SHANGHAI, format_local
from domain.money import format_fen
from domain.notices import Attachment, Notice, Template
from domain.queues import Queue
from domain.statuses import Role

DUE_CSV_HEADERS = (
    "退款编号",
    "主订单号",
    "店铺名称",
    "开户名",
    "开户行",
    "支行",
    "银行卡号",
    "退款金额(元)",
    "同意退款时间",
    "是否超时",
)


class PayoutDue(BaseModel):
    """A refund agreed and waiting on finance (the card number masked: e-mail is no place
    for the full number, which finance sees on the payout page)."""

    refund_id: str
    order_no: str
    shop_name: str
    account_name: str
    bank: str
    branch: str
    card_no_masked: str
    amount_fen: int
    agreed_at: datetime | None
    overdue: bool


class QueueCount(BaseModel):
    queue: Queue
    count: int
    overdue: int


def beijing_day(moment: datetime) -> date:
    """The calendar day in Beijing at ``moment``: the day a digest is for."""
    return moment.astimezone(SHANGHAI).date()


Bounds = tuple[datetime, datetime]


def day_bounds(day: date) -> Bounds:
    """[start, end) of a Beijing calendar day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def day_bounds_before(day: date) -> Bounds:
    """[start, end) of the Beijing day before ``day`` ("yesterday" in the digest)."""
    return day_bounds(day - timedelta(days=1))


def yuan(amount_fen: int) -> str:
    """Amounts in a CSV as banks and spreadsheets read them: 1000.00."""
    whole, fen = divmod(amount_fen, 100)
    return f"{whole}.{fen:02d}"


def _cell(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def payouts_due_csv(due: list[PayoutDue]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DUE_CSV_HEADERS)
    for p in due:
        writer.writerow(
            [
                p.refund_id,
                p.order_no,
                _cell(p.shop_name),
                _cell(p.account_name),
                _cell(p.bank),
                _cell(p.branch),
                p.card_no_masked,
                yuan(p.amount_fen),
                format_local(p.agreed_at) if p.agreed_at else "",
                "超时" if p.overdue else "",
            ]
        )
    return out.getvalue()


def finance_digest(
    day: date, due: list[PayoutDue], paid_yesterday_fen: int, paid_yesterday_count: int
) -> Notice:
    """Finance's morning e-mail: the payouts due (listed and attached) and what the payout
    ledger recorded paid on the Beijing day before ``day``."""
    yesterday = day - timedelta(days=1)
    return Notice(
        template=Template.FINANCE_DIGEST,
        to=[],
        staff=Role.FINANCE,
        occasion=f"digest-finance-{day.isoformat()}",
        context={
            "day": day.isoformat(),
            "yesterday": yesterday.isoformat(),
            "due_count": str(len(due)),
            "due_total": format_fen(sum(p.amount_fen for p in due)),
            "due_overdue": str(sum(p.overdue for p in due)),
            "paid_count": str(paid_yesterday_count),
            "paid_total": format_fen(paid_yesterday_fen),
        },
        rows=[
            {
                "refund_id": p.refund_id,
                "order_no": p.order_no,
                "account_name": p.account_name,
                "amount": format_fen(p.amount_fen),
                "overdue": "超时" if p.overdue else "",
            }
            for p in due
        ],
        attachments=[
            Attachment(filename=f"待打款-{day.isoformat()}.csv", text=payouts_due_csv(due))
        ],
    )


def reviewer_digest(day: date, counts: list[QueueCount]) -> Notice:
    """The reviewers' morning e-mail: each queue's open items and how many are 超时 (待打款
    included, so the reviewers see what waits on finance)."""
    return Notice(
        template=Template.REVIEWER_DIGEST,
        to=[],
        staff=Role.REVIEWER,
        occasion=f"digest-reviewers-{day.isoformat()}",
        context={
            "day": day.isoformat(),
            "open_count": str(sum(c.count for c in counts)),
            "overdue_count": str(sum(c.overdue for c in counts)),
        },
        rows=[
            {"label": c.queue.label, "count": str(c.count), "overdue": str(c.overdue)}
            for c in counts
        ],
    )
