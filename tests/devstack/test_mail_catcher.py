"""The development SMTP catcher keeps each message as a readable .eml file."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from devstack.mail_catcher import eml_name, start_mail_catcher
from devstack.processes import free_port


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    port = free_port()
    controller = start_mail_catcher(tmp_path / "mail", "127.0.0.1", port)
    yield tmp_path / "mail", port
    controller.stop()


def _message(subject: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "百胜云市场 <noreply@mall.baison.net>"
    message["To"] = "leiliang@example.com"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("订单 BS-ZX202210141008551123 被打回：发票抬头不对。")
    return message


def _listing(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml"))


async def _eml_files(directory: Path, count: int) -> list[Path]:
    """The .eml files once ``count`` have arrived (or whatever arrived within 2 s)."""
    for _ in range(100):
        files = await asyncio.to_thread(_listing, directory)
        if len(files) >= count:
            return files
        await asyncio.sleep(0.02)
    return await asyncio.to_thread(_listing, directory)


async def test_send_writes_eml_with_chinese_subject(catcher: tuple[Path, int]) -> None:
    directory, port = catcher
    subject = "【百胜云市场】订单 BS-ZX202210141008551123 被打回，请修改信息后重新提交"
    await aiosmtplib.send(
        _message(subject, "<a1b2@shop-orders.baison>"), hostname="127.0.0.1", port=port
    )

    [eml] = await _eml_files(directory, 1)
    received = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert received["Subject"] == subject
    assert received["To"] == "leiliang@example.com"
    assert "发票抬头不对" in received.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert eml.name.endswith("-a1b2@shop-orders.baison.eml")


async def test_send_twice_keeps_both_in_arrival_order(catcher: tuple[Path, int]) -> None:
    directory, port = catcher
    await aiosmtplib.send(_message("第一封", "<one@x>"), hostname="127.0.0.1", port=port)
    await aiosmtplib.send(_message("第二封", "<two@x>"), hostname="127.0.0.1", port=port)

    files = await _eml_files(directory, 2)
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert subjects == ["第一封", "第二封"]
    assert not list(directory.glob(".*.part"))


def test_eml_name_sanitizes_the_message_id() -> None:
    content = b"Message-ID: <../../etc/passwd x@y>\r\nSubject: s\r\n\r\nbody\r\n"
    name = eml_name(content, datetime(2026, 11, 28, 15, 4, 5, 123456, tzinfo=UTC))
    assert name == "20261128T150405123456Z-etc_passwd_x@y.eml"


def test_eml_name_without_message_id_is_still_unique() -> None:
    at = datetime(2026, 11, 28, tzinfo=UTC)
    first, second = eml_name(b"Subject: s\r\n\r\n", at), eml_name(b"Subject: s\r\n\r\n", at)
    assert first.startswith("20261128T000000000000Z-") and first.endswith(".eml")
    assert first != second
