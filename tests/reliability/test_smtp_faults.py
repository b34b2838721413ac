"""The SMTP server refuses for now (4xx) or is down: the e-mail is retried with growing pauses
and delivered exactly once; refused for good (5xx) it is marked failed and written in the
order's 操作记录; the change that called for it is not held up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from tests.reliability.driver import Driver, Expected, Traffic, Walk
from tests.reliability.faults import FlakySmtp
from tests.reliability.report import Section
from tests.reliability.verification import Checked, retry_pauses, verify, wait_for_mail
from tests.support.stack import running_stack, stack_settings
from workflows.client import connect

TEMPORARY = "451 4.3.0 mailbox busy, try again later"
PERMANENT = "554 5.7.1 message rejected"


async def _outbox(
    sessions: async_sessionmaker[AsyncSession], order_no: str
) -> list[models.OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(models.OutboxMessage).where(models.OutboxMessage.order_no == order_no)
            )
        )


async def _review(walk: Walk, action: str) -> float:
    """Return or void the order (either e-mails the buyer); seconds the answer took."""
    started = time.monotonic()
    reason = {"return": "店铺名称有误", "void": "重复下单"}[action]
    await walk.staff(
        "bmp", f"/api/admin/orders/{walk.order_no}/{action}", action, {"reason": reason}
    )
    return time.monotonic() - started


async def test_smtp_refusing_or_down_mail_is_retried_and_delivered_once(
    report: Section,
    database_url: str,
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """SMTP server refusing, then down

    An e-mail the SMTP server refuses temporarily or cannot take because it is down is
    retried with growing pauses and delivered exactly once when the server takes it; one it
    refuses for good (5xx) is marked failed, not retried, and recorded on the order; the
    change that called for it answers at once.
    """
    smtp = FlakySmtp().start()
    settings = stack_settings(tmp_path, database_url, smtp.port, "reliability")
    try:
        async with running_stack(settings):
            temporal = await connect(settings)
            traffic = Traffic()
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{settings.api_port}", timeout=60
            ) as http:
                driver = Driver(http, traffic)
                profile_id = await driver.profile("leiliang")
                busy, rejecting, down_a, down_b = (
                    Walk(driver, f"smtp-{name}", profile_id)
                    for name in ("busy", "rejecting", "down-a", "down-b")
                )
                for walk in (busy, rejecting, down_a, down_b):
                    await walk.place("JSFW0001")

                # 1. the server answers the end of DATA with 451, or with 554, once.
                smtp.refuse(busy.order_no, TEMPORARY, 1)
                smtp.refuse(rejecting.order_no, PERMANENT, 1)
                answered: tuple[float, ...] = await asyncio.gather(
                    _review(busy, "return"), _review(rejecting, "return")
                )
                await wait_for_mail(session_maker, [busy.order_no], {busy.order_no: 1}, 30)
                for _ in range(100):
                    if (await _outbox(session_maker, rejecting.order_no))[0].status == "failed":
                        break
                    await asyncio.sleep(0.3)

                # 2. the server is gone (port closed) for two attempts, then back.
                smtp.stop()
                stopped = time.monotonic()
                answered += await asyncio.gather(_review(down_a, "return"), _review(down_b, "void"))
                pauses: dict[int, float] = {}
                while time.monotonic() - stopped < 60:
                    for attempt, pause in await retry_pauses(temporal, down_a.order_no):
                        pauses.setdefault(attempt, pause)
                    rows = await _outbox(session_maker, down_a.order_no) + await _outbox(
                        session_maker, down_b.order_no
                    )
                    if len(rows) == 2 and all(r.attempts >= 2 for r in rows) and len(pauses) >= 2:
                        break
                    await asyncio.sleep(0.3)
                while_down = rows
                smtp.start()
                down_for = time.monotonic() - stopped
                await wait_for_mail(
                    session_maker,
                    [down_a.order_no, down_b.order_no],
                    {down_a.order_no: 1, down_b.order_no: 1},
                    60,
                )

                expected = {
                    busy.order_no: Expected("returned", (), None, False, ("order_returned",)),
                    down_a.order_no: Expected("returned", (), None, False, ("order_returned",)),
                    down_b.order_no: Expected(
                        "voided", (), None, False, ("order_voided",), run_ends=True
                    ),
                }
                checked = Checked()
                for order_no, expectation in expected.items():
                    await verify(temporal, session_maker, smtp, order_no, expectation, checked)
                sent = {
                    no: (await _outbox(session_maker, no))[0]
                    for no in (*expected, rejecting.order_no)
                }
                rejected_state = await temporal.get_workflow_handle(rejecting.order_no).query(
                    "state"
                )

            report.try_(
                "the SMTP server answered the end of DATA with "
                f"'{TEMPORARY}' once for one order's e-mail and with '{PERMANENT}' once for "
                "another's"
            )
            report.try_(
                f"the SMTP server stopped (port closed) while two more e-mails were due, for "
                f"{down_for:.0f} s, then started again on the same port"
            )
            report.count("e-mails checked", checked.mails)
            report.count("refusals answered by the server", sum(smtp.refused.values()))
            report.count(
                "attempts per e-mail (outbox)", ", ".join(str(r.attempts) for r in sent.values())
            )
            report.count(
                "pauses after the failed attempts while down (s)",
                ", ".join(f"{p:g}" for _, p in sorted(pauses.items())),
            )
            report.count(
                "slowest answer to the change that sent the e-mail (s)", f"{max(answered):.1f}"
            )

            assert sorted(smtp.refused.values()) == [1, 1]
            assert sent[busy.order_no].attempts == 2 and sent[rejecting.order_no].attempts == 1
            assert all(r.last_error for r in while_down)
            assert all(sent[no].attempts >= 3 for no in (down_a.order_no, down_b.order_no))
            report.hold(
                "each refusal and each refused connection was recorded on the e-mail's outbox "
                "row (attempts, last error) and retried"
            )
            delays = [p for _, p in sorted(pauses.items())]
            assert len(delays) >= 2 and delays[0] >= 5 and delays[1] > delays[0]
            report.hold("the pauses between attempts grew (5 s, then doubling)")
            assert checked.problems == [] and checked.mail_duplicates == 0
            failed = sent.pop(rejecting.order_no)
            assert failed.status == "failed" and "554" in (failed.last_error or "")
            assert [
                e["detail"].split(":")[0]
                for e in rejected_state["events"]
                if e["action"] == "notice_failed"
            ] == ["订单打回通知 发送失败"]
            assert all(r.status == "sent" and r.last_error is None for r in sent.values())
            report.hold(
                "every e-mail not refused for good was delivered exactly once (one accepted "
                "message per outbox key) and its outbox row ends sent; the one refused with "
                "554 ends failed after one attempt; the orders' state agrees with the database"
            )
            assert max(answered) < 10
            report.hold(
                "the changes that called for the e-mails answered at once; mail waits on its own"
            )
            report.note(
                "a permanent refusal (5xx to the recipients or the message) is not retried: the "
                "e-mail is marked failed (outbox row, last_error), written in the order's "
                "操作记录 as 通知发送失败 and counted, so the order's later e-mails do not wait "
                "behind it"
            )
    finally:
        smtp.stop()
