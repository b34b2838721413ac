"""Batch payout confirmation from the bank's result file, and the ledger's daily totals.

Each line of the file is applied or refused on its own; the report lists both. A line
already applied (same refund, same bank reference) is reported as such and changes
nothing, so uploading the same file twice is harmless.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from temporalio.client import Client

from api.errors import Problem
from api.field_messages import chinese_message
from api.services import commands, refunds
from db import models
from domain.calendar import shanghai
from domain.commands import Payout
from domain.order import Actor
from domain.statuses import RefundStatus

MAX_LINES = 2000
MAX_FILE_BYTES = 2 * 1024 * 1024
TOO_LARGE = "银行回单文件超过 2 MB，请拆分后分批上传"
# Accepted column names: ours (as the ledger export writes them) and plain English ones.
REFUND_COLUMNS = ("退款编号", "refund_id")
AMOUNT_YUAN_COLUMNS = ("退款金额(元)", "退款金额", "amount")
AMOUNT_FEN_COLUMNS = ("amount_fen",)
REFERENCE_COLUMNS = ("银行流水号", "bank_reference")
# Said for the line the order service did not accept in time and for every line after it:
# with no worker taking the tasks, each would wait as long again (2000 lines, hours).
NOT_ACCEPTED_LINE = (
    "订单处理服务暂未受理，本行未确认（可能稍后生效）；请稍后重新上传同一文件，"
    "已打款的行不会重复打款"
)


@dataclass
class LineResult:
    line: int
    refund_id: str
    outcome: str  # "applied", "already_applied" or "refused"
    detail: str


@dataclass
class BatchReport:
    applied: list[LineResult] = field(default_factory=list)
    already_applied: list[LineResult] = field(default_factory=list)
    refused: list[LineResult] = field(default_factory=list)

    def add(self, result: LineResult) -> None:
        getattr(self, result.outcome).append(result)


async def read_file(upload: UploadFile) -> bytes:
    """The whole file, or 413: a file over the limit is refused, never cut short."""
    data = await upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Problem(413, TOO_LARGE)
    return data


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Problem(422, "银行回单文件不是 UTF-8 或 GBK 编码的文本，请另存为 CSV 后重新上传")


def _rows(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text))
    try:
        return list(reader)
    except csv.Error as error:  # a field past the csv module's limit, a NUL, a stray quote
        raise Problem(
            422, f"银行回单 CSV 格式有误（第 {reader.line_num} 行：{error}），请检查后重新上传"
        ) from None


def _column(header: list[str], names: Iterable[str]) -> int | None:
    cleaned = [h.strip() for h in header]
    return next((cleaned.index(n) for n in names if n in cleaned), None)


def _amount_fen(text: str, in_yuan: bool) -> int:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"退款金额「{text}」不是数字") from None
    fen = value * 100 if in_yuan else value
    if fen != fen.to_integral_value() or fen <= 0:
        raise ValueError(f"退款金额「{text}」须为大于零、精确到分的金额")
    return int(fen)


async def confirm_batch(
    *, session: AsyncSession, client: Client, actor: Actor, data: bytes, accept_within: timedelta
) -> BatchReport:
    rows = _rows(_decode(data))
    if not rows:
        raise Problem(422, "银行回单文件是空的")
    header = rows[0]
    refund_col = _column(header, REFUND_COLUMNS)
    reference_col = _column(header, REFERENCE_COLUMNS)
    yuan_col = _column(header, AMOUNT_YUAN_COLUMNS)
    fen_col = _column(header, AMOUNT_FEN_COLUMNS)
    amount_col = fen_col if fen_col is not None else yuan_col
    if refund_col is None or reference_col is None or amount_col is None:
        raise Problem(
            422,
            "银行回单的表头须包含「退款编号」「退款金额(元)」和「银行流水号」三列"
            "（即导出的待打款 CSV 的列名）",
        )
    if len(rows) - 1 > MAX_LINES:
        raise Problem(413, f"银行回单每个文件最多 {MAX_LINES} 行，请拆分后分批上传")
    report = BatchReport()
    stalled = False
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if not stalled:
            try:
                report.add(
                    await _apply_line(
                        session,
                        client,
                        actor,
                        number,
                        row,
                        refund_col,
                        amount_col,
                        reference_col,
                        in_yuan=fen_col is None,
                        accept_within=accept_within,
                    )
                )
                continue
            except commands.NotAccepted:
                stalled = True
        refund_id = row[refund_col].strip()[:64] if refund_col < len(row) else ""
        report.add(LineResult(number, refund_id, "refused", NOT_ACCEPTED_LINE))
    return report


async def _apply_line(
    session: AsyncSession,
    client: Client,
    actor: Actor,
    number: int,
    row: list[str],
    refund_col: int,
    amount_col: int,
    reference_col: int,
    *,
    in_yuan: bool,
    accept_within: timedelta,
) -> LineResult:
    cells = [c.strip() for c in row] + [""] * 3
    refund_id, reference = cells[refund_col], cells[reference_col]
    try:
        amount = _amount_fen(cells[amount_col], in_yuan)
        if not refund_id or not reference:
            raise ValueError("退款编号和银行流水号不能为空")
        # Checked before anything is asked: a reference with a line break is refused here.
        command = Payout(actor=actor, amount_fen=amount, bank_reference=reference)
        state = await refunds.visible(session=session, actor=actor, refund_id=refund_id)
    except ValidationError as invalid:
        messages = "；".join(chinese_message(e) for e in invalid.errors())
        return LineResult(number, refund_id[:64], "refused", messages)
    except (ValueError, Problem) as error:
        detail = error.detail if isinstance(error, Problem) else str(error)
        return LineResult(number, refund_id[:64], "refused", detail)
    refund = state.refund
    if refund is not None and refund.status is RefundStatus.REFUNDED:
        if refund.bank_reference == reference and refund.amount_fen == amount:
            return LineResult(
                number,
                refund_id,
                "already_applied",
                f"此前已打款（银行流水号 {reference}），未重复打款",
            )
        return LineResult(
            number,
            refund_id,
            "refused",
            f"退款 {refund_id} 已按银行流水号 {refund.bank_reference} 打款，与本行不一致",
        )
    try:
        await refunds.act(
            session=session,
            client=client,
            refund_id=refund_id,
            command=command,
            # The same line uploaded again is the same update, applied once.
            idempotency_key=f"batch:{refund_id}:{reference}"[:128],
            accept_within=accept_within,
        )
    except commands.NotAccepted:
        raise  # the lines after it are not sent either (confirm_batch)
    except Problem as problem:
        if problem.code == commands.NOT_ACCEPTED:  # this order's run recovering: try later
            return LineResult(number, refund_id, "refused", NOT_ACCEPTED_LINE)
        return LineResult(number, refund_id, "refused", problem.detail)
    return LineResult(
        number, refund_id, "applied", f"已打款 {amount / 100:.2f} 元（银行流水号 {reference}）"
    )


def daily_totals(rows: Iterable[models.Payout]) -> list[tuple[str, int, int]]:
    """(Shanghai day, payouts, amount in fen), newest day first."""
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        day = shanghai(row.paid_at).strftime("%Y-%m-%d")
        days[day][0] += 1
        days[day][1] += row.amount_fen
    return [(day, count, amount) for day, (count, amount) in sorted(days.items(), reverse=True)]
