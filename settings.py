"""The one settings class: every environment variable the system reads is read here."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_service_term(text: str) -> tuple[int, timedelta]:
    """Split an ISO-8601 duration into (calendar years, exact remainder).

    Years are kept apart because "+1 year" is a calendar step (29 Feb → 28 Feb),
    not 365 days. Months are refused: nothing in the business uses them.
    """
    match = _ISO_DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"SERVICE_TERM {text!r} is not an ISO-8601 duration like P1Y or PT10M")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    if parts.get("months"):
        raise ValueError("SERVICE_TERM may not use months; use years, weeks, days or time")
    years = parts.pop("years", 0)
    remainder = timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    if years == 0 and remainder <= timedelta(0):
        raise ValueError("SERVICE_TERM must be longer than zero")
    return years, remainder


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".data")
    database_url: str = ""
    temporal_address: str = ""
    temporal_namespace: str = "default"
    temporal_task_queue: str = "shop-orders"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: str | None = None
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_ui_origin: str = ""
    # Prometheus metrics of the worker (Temporal runtime); 0 turns them off.
    worker_metrics_port: int = 9464
    log_format: Literal["text", "json"] = "text"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = False
    mail_from: str = "百胜云市场 <noreply@mall.baison.net>"
    demo_password: str = "demo"
    jwt_secret: str = "dev-only-secret-change-me-0123456789abcdef"
    jwt_ttl_minutes: int = 12 * 60
    service_term: str = "P1Y"
    proof_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # "id:base64key,…" AES-256 keys for the payload codec; the first encrypts new payloads.
    payload_keys: str = ""
    # Refund proofs per buyer: uploads an hour, and bytes kept (accepted and pending) at once.
    proof_uploads_per_hour: int = Field(default=20, gt=0)
    proof_quota_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # A stored proof no refund names is deleted once it is this old.
    proof_orphan_grace_seconds: int = Field(default=3600, gt=0)

    @field_validator("service_term")
    @classmethod
    def _term_is_a_duration(cls, value: str) -> str:
        parse_service_term(value)
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.environment == "production":
            if self.service_term != "P1Y":
                raise ValueError(
                    "SERVICE_TERM other than P1Y is refused when ENVIRONMENT=production"
                )
            if self.jwt_secret.startswith("dev-only"):
                raise ValueError("JWT_SECRET must be set when ENVIRONMENT=production")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'shop_orders.db').resolve()}"

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def term(self) -> tuple[int, timedelta]:
        return parse_service_term(self.service_term)

    @property
    def temporal_ui_origins(self) -> list[str]:
        """Where the Temporal UI runs, allowed to call the codec endpoint from the browser."""
        if self.temporal_ui_origin:
            return [o.strip() for o in self.temporal_ui_origin.split(",") if o.strip()]
        port = self.temporal_ui_port
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def proof_dir(self) -> Path:
        return self.data_dir / "proofs"


@lru_cache
def get_settings() -> Settings:
    return Settings()
