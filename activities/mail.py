"""E-mail: rendered from Jinja2 templates, sent by SMTP, recorded in the outbox.

The outbox row, keyed by order number + occasion, is what stops a retried activity
from sending the same e-mail twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities import contracts
from db import models
from db.upsert import insert_for
from domain.notices import Notice, Template
from settings import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"

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

    def render(self, notice: Notice, key: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = SUBJECTS[notice.template].format(**notice.context)
        message["From"] = self._sender
        message["To"] = ", ".join(notice.to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id(key)
        message["X-Outbox-Key"] = key
        text = self._env.get_template(f"{notice.template}.txt").render(**notice.context)
        html = self._env.get_template(f"{notice.template}.html").render(**notice.context)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message


def message_id(key: str) -> str:
    """Stable per outbox key, so a receiver can drop a copy sent twice after a crash."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@shop-orders.baison>"


class MailActivities:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = session_maker
        self._settings = settings
        self._mailer = Mailer(settings.mail_from)

    @activity.defn(name=contracts.SEND_EMAIL)
    async def send_email(self, request: contracts.EmailRequest) -> contracts.EmailResult:
        message = self._mailer.render(request.notice, request.key)
        async with self._sessions() as session:
            await session.execute(
                insert_for(session, models.OutboxMessage.__table__)  # type: ignore[arg-type]
                .values(
                    key=request.key,
                    order_no=request.order_no,
                    template=request.notice.template.value,
                    recipients=request.notice.to,
                    subject=str(message["Subject"]),
                    status="pending",
                    attempts=0,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            await session.commit()
            row = await session.get(models.OutboxMessage, request.key)
            assert row is not None
            if row.status == "sent":
                return contracts.EmailResult(key=request.key, sent=False, already_sent=True)
            row.attempts += 1
            try:
                await self._deliver(message)
            except (aiosmtplib.SMTPException, OSError) as err:
                activity.logger.warning(
                    "SMTP delivery of %s failed, will retry: %s", request.key, err
                )
                row.last_error = f"{type(err).__name__}: {err}"[:2000]
                await session.commit()
                raise
            activity.logger.info(
                "sent %s to %d recipient(s)", request.notice.template.value, len(request.notice.to)
            )
            row.status = "sent"
            row.sent_at = datetime.now(UTC)
            row.last_error = None
            await session.commit()
        return contracts.EmailResult(key=request.key, sent=True, already_sent=False)

    async def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host or "127.0.0.1",
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_use_tls,
            timeout=20,
        )
