"""E-mail: rendered from Jinja2 templates, sent by SMTP, recorded in the outbox.

The outbox row, keyed by order number + occasion, is what stops a retried activity
from sending the same e-mail twice.

An e-mail that can never be sent — the server refuses its recipients or the message for
good (5xx), or it cannot be built from the order's data — ends ``failed`` on its outbox row,
is counted in the worker's metric ``shop_orders_notices_failed`` and raised as a
non-retryable ``NoticeUndeliverable``, so the order's next e-mails do not queue behind it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, NoReturn, cast

import aiosmtplib
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    UndefinedError,
    select_autoescape,
)
from opentelemetry import trace
from sqlalchemy import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import contracts, inbox
from activities.smtp import SmtpConnections
from db import models
from db.upsert import insert_for
from domain.notices import Notice, Template
from domain.validation import as_one_line
from settings import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"

# Building the same notice again fails the same way: no retry can fix these.
BUILD_ERRORS = (ValueError, KeyError, TypeError, UndefinedError, MessageError)
FAILED_NOTICES_METRIC = "shop_orders_notices_failed"
# Enough of the server's answer to tell why; the rest is noise in the 操作记录.
REASON_MAX_CHARS = 300
# The SMTP conversation's span, inside the activity's: how long the server took, and its
# refusal when there is one.
tracer = trace.get_tracer(__name__)
# What the buyer's 我的消息 holds for a notice whose e-mail could not be built.
UNBUILDABLE_MESSAGE_BODY = "该通知的内容无法生成，请联系客服了解详情。"

SUBJECTS: dict[Template, str] = {
    Template.ORDER_RETURNED: "【百胜云市场】订单 {order_no} 被打回，请修改信息后重新提交",
    Template.ORDER_VOIDED: "【百胜云市场】订单 {order_no} 已作废",
    Template.REFUND_RETURNED: "【百胜云市场】订单 {order_no} 的退款申请需要修改",
    Template.REFUND_AGREED: "【百胜云市场】订单 {order_no} 已同意退款",
    Template.REFUND_PAID: "【百胜云市场】订单 {order_no} 已退款",
    Template.INVOICE_RETURNED: "【百胜云市场】开票申请 {invoice_app_no} 被打回",
    Template.INVOICE_SHIPPED: "【百胜云市场】发票已寄送（{courier} {tracking_no}）",
    Template.AUTO_INVOICE: "【百胜云市场】订单 {order_no} 已逾期自动生成开票",
    Template.DEADLINE_REMINDER: (
        "【百胜云市场】订单 {order_no} 距一年期限还有 {days} 天，请尽快完成"
    ),
    Template.EXPIRY_REMINDER: "【百胜云市场】店铺 {shop_name} 的服务将于 {service_end_date} 到期",
    Template.STAFF_OVERDUE: "【bmp后台】{queue_label}超时：{item_id}（订单 {order_no}）",
    Template.FINANCE_DIGEST: (
        "【bmp后台】{day} 财务日报：待打款 {due_count} 笔（{due_total}），昨日已打款 {paid_total}"
    ),
    Template.REVIEWER_DIGEST: (
        "【bmp后台】{day} 审核日报：待办 {open_count} 项，超时 {overdue_count} 项"
    ),
}


class Mailer:
    """Renders a notice into a MIME message (plain text + HTML)."""

    def __init__(self, sender: str) -> None:
        self._sender = sender
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )

    def render(self, notice: Notice, key: str, recipients: list[str] | None = None) -> EmailMessage:
        # Headers are built from order data, older than today's input rules: a line break
        # there would add a header (or make the message impossible to build).
        header_context = {name: as_one_line(value) for name, value in notice.context.items()}
        message = EmailMessage()
        message["Subject"] = SUBJECTS[notice.template].format(**header_context)
        message["From"] = self._sender
        to = notice.to if recipients is None else recipients
        message["To"] = ", ".join(as_one_line(address) for address in to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(key)
        message["X-Outbox-Key"] = key
        context = {**notice.context, "rows": notice.rows}
        text = self._env.get_template(f"{notice.template}.txt").render(**context)
        html = self._env.get_template(f"{notice.template}.html").render(**context)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        for attachment in notice.attachments:
            message.add_attachment(
                attachment.text.encode("utf-8-sig"),
                maintype="text",
                subtype=attachment.subtype,
                filename=attachment.filename,
                params={"charset": "utf-8"},
            )
        return message


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def message_id(key: str) -> str:
    """Stable per outbox key, so a receiver can drop a copy sent twice after a crash."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@shop-orders.baison>"


class MailActivities:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = session_maker
        self._settings = settings
        self._mailer = Mailer(settings.mail_from)
        self._smtp = SmtpConnections(settings)

    @activity.defn(name=contracts.SEND_EMAIL)
    async def send_email(self, request: contracts.EmailRequest) -> contracts.EmailResult:
        return await self.deliver(request)

    async def deliver(self, request: contracts.EmailRequest) -> contracts.EmailResult:
        """Send the notice once under its outbox key (inside an activity: the order's
        e-mails, the daily digests)."""
        recipients = self._recipients(request.notice)
        if not recipients:
            activity.logger.warning(
                "STAFF_EMAILS lists nobody for %s: %s not sent", request.notice.staff, request.key
            )
            return contracts.EmailResult(key=request.key, sent=False, already_sent=False)
        message: EmailMessage | None = None
        build_error = ""
        try:
            message = self._mailer.render(request.notice, request.key, recipients)
            subject = str(message["Subject"])
            text = plain_text(message)
        except BUILD_ERRORS as err:
            build_error = f"邮件无法生成（{type(err).__name__}: {err}）"
            subject = f"{request.notice.template.label}（无法生成）"
            text = UNBUILDABLE_MESSAGE_BODY
        async with self._sessions() as session:
            now = datetime.now(UTC)
            claim = await session.execute(
                insert_for(session, models.OutboxMessage.__table__)  # type: ignore[arg-type]
                .values(
                    key=request.key,
                    order_no=request.order_no,
                    template=request.notice.template.value,
                    recipients=recipients,
                    subject=subject[:300],
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            # The first attempt claims the row; later ones find the message there already.
            if cast(CursorResult[Any], claim).rowcount == 1:
                await inbox.leave_message(
                    session,
                    outbox_key=request.key,
                    order_no=request.order_no,
                    template=request.notice.template,
                    title=subject,
                    body=text,
                    now=now,
                )
            await session.commit()
            row = await session.get(models.OutboxMessage, request.key)
            assert row is not None
            if row.status == "sent":
                return contracts.EmailResult(key=request.key, sent=False, already_sent=True)
            if row.status == "failed":  # recorded by an attempt the worker lost after
                raise undeliverable(row.last_error or "")
            row.attempts += 1
            if message is None:
                await self._give_up(session, row, request, build_error)
            try:
                await self._deliver(message, request)
            except (aiosmtplib.SMTPException, OSError) as err:
                refusal = permanent_refusal(err)
                if refusal is not None:
                    await self._give_up(session, row, request, refusal)
                activity.logger.warning(
                    "SMTP delivery of %s failed, will retry: %s", request.key, err
                )
                row.last_error = f"{type(err).__name__}: {err}"[:2000]
                await session.commit()
                raise
            activity.logger.info(
                "sent %s to %d recipient(s)", request.notice.template.value, len(recipients)
            )
            row.status = "sent"
            row.sent_at = datetime.now(UTC)
            row.last_error = None
            await session.commit()
        return contracts.EmailResult(key=request.key, sent=True, already_sent=False)

    def _recipients(self, notice: Notice) -> list[str]:
        """Whom the notice goes to: its own addresses, or the staff STAFF_EMAILS lists now."""
        if notice.staff is None:
            return notice.to
        return self._settings.staff_recipients(notice.staff.value)

    async def _give_up(
        self,
        session: AsyncSession,
        row: models.OutboxMessage,
        request: contracts.EmailRequest,
        reason: str,
    ) -> NoReturn:
        """Mark the e-mail failed for good, count it, and raise so it is not retried."""
        reason = as_one_line(reason)[:REASON_MAX_CHARS]
        row.status = "failed"
        row.last_error = reason
        await session.commit()
        template = request.notice.template.value
        activity.logger.error(
            "notice %s can never be sent: %s",
            request.key,
            reason,
            extra={"notice_failed": template, "order_no": request.order_no},
        )
        activity.metric_meter().create_counter(
            FAILED_NOTICES_METRIC, "e-mails that can never be sent, by template"
        ).add(1, {"template": template})
        raise undeliverable(reason)

    async def _deliver(self, message: EmailMessage, request: contracts.EmailRequest) -> None:
        settings = self._settings
        hostname = settings.smtp_host or "127.0.0.1"
        attributes: dict[str, str | int] = {
            "shop.template": request.notice.template.value,
            "server.address": hostname,
            "server.port": settings.smtp_port,
        }
        if request.order_no:  # the daily digests are about no one order
            attributes["shop.order_no"] = request.order_no
        with tracer.start_as_current_span(
            "smtp send", kind=trace.SpanKind.CLIENT, attributes=attributes
        ):
            await self._smtp.send(message)


def permanent_refusal(error: Exception) -> str | None:
    """Why the server will never take this e-mail (a 5xx answer to its recipients or its
    content), or None when a later attempt may succeed: a 4xx, a connection lost, and a
    5xx to our own sign-in or sender, which the operators fix for every e-mail at once."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = error.recipients
        if refused and all(r.code >= 500 for r in refused):
            answers = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refused)
            return f"收件人被邮件服务器拒收（{answers}）"
        return None
    if isinstance(error, aiosmtplib.SMTPRecipientRefused) and error.code >= 500:
        return f"收件人被邮件服务器拒收（{error.recipient}: {error.code} {error.message}）"
    if isinstance(error, aiosmtplib.SMTPDataError) and error.code >= 500:
        return f"邮件被邮件服务器拒收（{error.code} {error.message}）"
    return None


def undeliverable(reason: str) -> ApplicationError:
    return ApplicationError(reason, type=contracts.NOTICE_UNDELIVERABLE, non_retryable=True)
