"""Strict by default.

Threat: an unset ENVIRONMENT ran as development with the JWT secret committed in the
repository; `JWT_SECRET=secret` was accepted in production.

Control: an unset ENVIRONMENT is production, which refuses to start without a strong JWT
secret (at least 32 random bytes) and payload keys, or with a shortened service term;
secrets are SecretStr and never echoed.

Strict by default: production is what an unset ENVIRONMENT means, and it refuses to
start with a weak JWT secret, without payload keys or with a shortened service term.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from settings import DEV_JWT_SECRET, Settings
from tests.support.keys import TEST_PAYLOAD_KEYS

STRONG = secrets.token_urlsafe(48)


def production(**values: Any) -> Settings:
    required: dict[str, Any] = {
        "environment": "production",
        "jwt_secret": STRONG,
        "payload_keys": TEST_PAYLOAD_KEYS,
    }
    return Settings(**(required | values))


def test_unset_environment_means_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file either
    settings = Settings(jwt_secret=STRONG, payload_keys=TEST_PAYLOAD_KEYS)
    assert settings.environment == "production"
    assert not settings.is_development


def test_settings_refuse_production_with_nothing_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("ENVIRONMENT", "JWT_SECRET", "PAYLOAD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match=r"JWT_SECRET.*PAYLOAD_KEYS"):
        Settings()


@pytest.mark.parametrize(
    "secret",
    [
        DEV_JWT_SECRET,
        "secret",
        "changeme",
        "CHANGEME",
        secrets.token_urlsafe(16),  # random, but only 16 bytes
        "ab" * 30,  # long, two characters
        "changeme" * 6,  # long, a placeholder repeated
        "jwt-secret-please-change-me-before-going-live-0123456789",  # a placeholder sentence
    ],
)
def test_settings_refuse_production_without_strong_jwt_secret(secret: str) -> None:
    with pytest.raises(ValidationError) as refused:
        production(jwt_secret=secret)
    message = str(refused.value)
    assert "JWT_SECRET" in message
    assert "secrets.token_urlsafe(48)" in message  # says how to make a good one


def test_settings_refusal_never_repeats_the_refused_secret() -> None:
    weak = "hunter2-hunter2"  # a refusal is logged, and this may be a real password
    with pytest.raises(ValidationError) as refused:
        production(jwt_secret=weak)
    assert "fewer than 43" in str(refused.value) and weak not in str(refused.value)


@pytest.mark.parametrize(
    "secret",
    [secrets.token_urlsafe(48), secrets.token_urlsafe(32), secrets.token_hex(32)],
)
def test_settings_accept_production_with_32_random_bytes(secret: str) -> None:
    assert production(jwt_secret=secret).jwt_secret.get_secret_value() == secret


def test_settings_refuse_production_without_payload_keys() -> None:
    with pytest.raises(ValidationError, match="PAYLOAD_KEYS is not set"):
        production(payload_keys="")


def test_settings_refuse_production_with_a_short_service_term() -> None:
    with pytest.raises(ValidationError, match="SERVICE_TERM"):
        production(service_term="PT10M")


def test_development_keeps_its_conveniences() -> None:
    settings = Settings(environment="development", service_term="PT10M")
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.term[1].total_seconds() == 600


@pytest.mark.parametrize(
    "name", ["jwt_secret", "smtp_password", "payload_keys", "demo_password", "temporal_api_key"]
)
def test_secrets_are_hidden_when_settings_are_printed(name: str) -> None:
    value = secrets.token_urlsafe(48)
    settings = production(**{name: value})
    field = getattr(settings, name)
    assert isinstance(field, SecretStr) and field.get_secret_value() == value
    assert value not in repr(settings) and value not in str(settings.model_dump())
