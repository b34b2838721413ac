"""Development conveniences only on purpose.

Threat: a deployment that forgets a setting runs with demo accounts (password `demo`), the
dev mail page or dev secrets.

Control: they exist only when `ENVIRONMENT=development` is set on purpose (`make run` and
the tests set it); child processes get real secrets, never their masked form.

Development conveniences (demo accounts, the dev mail page, dev secrets) exist only when
something asks for development; `make run` and the tests do, a deployment does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

import devstack.__main__ as devstack
from db.seed import DEMO_ACCOUNTS
from devstack.processes import child_env
from settings import get_settings
from tests.security.apps import (
    REVIEWER,
    app_settings,
    fresh_database,
    serving,
    signed_in,
    strong_secret,
)


@pytest.mark.parametrize("environment", ["production", "development"])
async def test_demo_accounts_exist_only_in_development(environment: str, tmp_path: Path) -> None:
    settings = app_settings(environment, tmp_path)
    async with fresh_database(settings) as sessions, serving(settings, sessions) as http:
        answers = [
            await http.post("/api/auth/token", data={"username": username, "password": "demo"})
            for username, *_ in DEMO_ACCOUNTS
        ]
    expected = 401 if environment == "production" else 200
    assert [a.status_code for a in answers] == [expected] * len(DEMO_ACCOUNTS)


async def test_dev_mail_page_absent_in_production(tmp_path: Path) -> None:
    settings = app_settings("production", tmp_path)
    (settings.mail_dir).mkdir(parents=True)
    (settings.mail_dir / "1.eml").write_text("Subject: secret order\n\nbody\n")
    async with fresh_database(settings) as sessions, serving(settings, sessions) as http:
        staff = await signed_in(settings, sessions, REVIEWER)
        page = await http.get("/dev/mail", headers=staff)
        nav = await http.get("/admin/orders", headers=staff)
    assert page.status_code == 303 and not page.headers["location"].startswith("/dev/mail")
    assert "secret order" not in page.text
    assert nav.status_code == 200 and "/dev/mail" not in nav.text


async def test_dev_mail_page_shows_mail_in_development(tmp_path: Path) -> None:
    settings = app_settings("development", tmp_path)
    settings.mail_dir.mkdir(parents=True)
    (settings.mail_dir / "1.eml").write_text("Subject: test order\n\nbody\n")
    async with fresh_database(settings) as sessions, serving(settings, sessions) as http:
        page = await http.get("/dev/mail", headers=await signed_in(settings, sessions, REVIEWER))
    assert page.status_code == 200 and "test order" in page.text


def test_make_run_asks_for_development(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        settings = devstack.development_settings()
    finally:
        get_settings.cache_clear()
    assert settings.is_development
    # Late work and the digest reach the demo staff in the local mail catcher.
    assert settings.staff_recipients("finance") == ["finance@baison.example.com"]


def test_make_run_keeps_an_explicit_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", strong_secret())
    monkeypatch.setenv("PAYLOAD_KEYS", "k1:a2V5")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        settings = devstack.development_settings()
    finally:
        get_settings.cache_clear()
    assert settings.environment == "production"
    assert settings.staff_emails == ""  # no demo addresses outside development


def test_child_processes_get_the_secrets_themselves(tmp_path: Path) -> None:
    secret = strong_secret()
    settings = app_settings("production", tmp_path, jwt_secret=secret)
    env = child_env(settings, base={})
    assert env["JWT_SECRET"] == secret
    assert env["PAYLOAD_KEYS"] == settings.payload_keys.get_secret_value()
    assert env["ENVIRONMENT"] == "production"
    assert isinstance(settings.jwt_secret, SecretStr)
