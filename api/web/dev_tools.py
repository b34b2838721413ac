"""开发: the e-mails the local SMTP catcher holds, for development only."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SettingsDep
from api.web.plumbing import PageUser, redirect, render

router = APIRouter(include_in_schema=False)

MAIL_SHOWN = 100


def read_mail(folder: Path, limit: int = MAIL_SHOWN) -> list[dict[str, str]]:
    messages = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        messages.append(
            {
                "date": str(message.get("Date", "")),
                "to": str(message.get("To", "")),
                "subject": str(message.get("Subject", "")),
                "text": body.get_content() if body else "",
            }
        )
    return messages


@router.get("/dev/mail", response_class=HTMLResponse, response_model=None)
async def dev_mail(request: Request, me: PageUser, settings: SettingsDep) -> Response:
    if settings.environment != "development":
        return redirect("/", err="仅开发环境可用")
    if me is None:
        return redirect("/login?next=/dev/mail")
    return render(
        request,
        "mail.html",
        me,
        section="mail",
        folder=str(settings.mail_dir),
        messages=read_mail(settings.mail_dir),
    )
