"""The one settings class: every environment variable the system reads is read here."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


# Only for `make run` and the tests; production refuses it (it is public, in this file).
DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"
# 32 random bytes written as URL-safe base64 (secrets.token_urlsafe(32)) are 43 characters.
JWT_SECRET_MIN_LENGTH = 43
# Random base64 shows 20+ different characters and random hex about 14 in 43-64 characters;
# a word repeated to length shows far fewer, and far less spread.
JWT_SECRET_MIN_DISTINCT = 12
JWT_SECRET_MIN_BITS_PER_CHAR = 3.3
# Values copied from examples and placeholders; compared case-insensitively.
KNOWN_WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "password", DEV_JWT_SECRET})
PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "dev-only", "replace-me", "example")
GENERATE_JWT_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
GENERATE_PAYLOAD_KEY = (
    "python -c 'import base64, os; print(\"k1:\" + base64.b64encode(os.urandom(32)).decode())'"
)


def _bits_per_char(text: str) -> float:
    """Shannon entropy of the text's own character frequencies (a low-variety detector)."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def jwt_secret_weakness(secret: str) -> str | None:
    """Why ``secret`` is not strong enough to sign production tokens; None when it is."""
    if secret == DEV_JWT_SECRET:
        return "it is unset, and the development default is public"
    lowered = secret.strip().lower()
    if lowered in KNOWN_WEAK_SECRETS or any(m in lowered for m in PLACEHOLDER_MARKERS):
        return "it is a known or placeholder value"
    if len(secret) < JWT_SECRET_MIN_LENGTH:
        return f"it is {len(secret)} characters long, fewer than {JWT_SECRET_MIN_LENGTH}"
    if (
        len(set(secret)) < JWT_SECRET_MIN_DISTINCT
        or _bits_per_char(secret) < JWT_SECRET_MIN_BITS_PER_CHAR
    ):
        return "it repeats too few different characters to be random"
    return None


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


# The back office's time limits (DOMAIN.md "Back-office work queues"), by queue code.
TIME_LIMIT_SETTINGS = {
    "review": "SLA_REVIEW",
    "refund_review": "SLA_REFUND_REVIEW",
    "payout": "SLA_PAYOUT",
    "invoice_issue": "SLA_INVOICE_ISSUE",
    "invoice_ship": "SLA_INVOICE_SHIP",
}
# Roles STAFF_EMAILS may name: reviewers (待审核, 待审核退款, 待开票, 待寄送) and finance (待打款).
STAFF_EMAIL_ROLES = ("reviewer", "finance")
_EMAIL = re.compile(r"^[^@\s,;=]+@[^@\s,;=]+\.[^@\s,;=]+$")


def parse_staff_emails(text: str) -> dict[str, list[str]]:
    """``reviewer=a@x.com,b@x.com;finance=c@x.com`` as {role: [addresses]}; empty for ""."""
    recipients: dict[str, list[str]] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        role, sep, addresses = part.partition("=")
        role = role.strip()
        if not sep or role not in STAFF_EMAIL_ROLES:
            raise ValueError(
                f"STAFF_EMAILS part {part.strip()!r} must be role=address,address with role "
                f"one of {', '.join(STAFF_EMAIL_ROLES)} "
                "(e.g. reviewer=a@example.com,b@example.com;finance=c@example.com)"
            )
        if role in recipients:
            raise ValueError(f"STAFF_EMAILS names the role {role} twice")
        listed = [a.strip() for a in addresses.split(",") if a.strip()]
        bad = [a for a in listed if not _EMAIL.match(a)]
        if not listed or bad:
            raise ValueError(
                f"STAFF_EMAILS for {role} needs e-mail addresses separated by commas; "
                f"not an address: {', '.join(bad) or '(none given)'}"
            )
        recipients[role] = listed
    return recipients


def parse_time_limit(name: str, text: str) -> timedelta:
    """A time limit: an ISO-8601 duration of weeks, days or time (P2D, PT12H), above zero."""
    try:
        years, remainder = parse_service_term(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not an ISO-8601 duration like P2D or PT12H") from None
    if years:
        raise ValueError(f"{name} is weeks, days or time, e.g. P3D, not years")
    return remainder


class Settings(BaseSettings):
    # A refusal is logged: it must not print the secret it refused.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    # Strict by default: development conveniences only when something asks for them.
    environment: Literal["development", "production"] = "production"
    data_dir: Path = Path(".data")
    database_url: str = ""
    temporal_address: str = ""
    temporal_namespace: str = "default"
    temporal_task_queue: str = "shop-orders"
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: SecretStr | None = None
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_ui_origin: str = ""
    # Prometheus metrics of the worker (Temporal runtime); 0 turns them off.
    worker_metrics_port: int = 9464
    log_format: Literal["text", "json"] = "text"
    # Traces (README "Traces"): spans as JSON lines to TRACES_FILE (in development by default
    # DATA_DIR/traces.jsonl) and by OTLP/HTTP when an OTLP endpoint is set (the standard
    # OpenTelemetry variables); OTEL_SDK_DISABLED=true turns both off.
    traces_file: Path | None = None
    otel_exporter_otlp_endpoint: str = ""
    otel_exporter_otlp_traces_endpoint: str = ""
    otel_sdk_disabled: bool = False
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False
    mail_from: str = "百胜云市场 <noreply@mall.baison.net>"
    demo_password: SecretStr = SecretStr("demo")
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_ttl_minutes: int = 12 * 60
    service_term: str = "P1Y"
    # How long the buyer has to correct a refund the back office returns after the deadline.
    refund_correction_period: str = "P30D"
    # The back office's time limits per queue (TIME_LIMIT_SETTINGS), ISO-8601 durations.
    sla_review: str = "P2D"
    sla_refund_review: str = "P3D"
    sla_payout: str = "P3D"
    sla_invoice_issue: str = "P7D"
    sla_invoice_ship: str = "P3D"
    # Who is e-mailed when a queue's item runs late: reviewer=a@x.com,b@x.com;finance=c@x.com
    staff_emails: str = ""
    proof_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # "id:base64key,…" AES-256 keys for the payload codec; the first encrypts new payloads.
    payload_keys: SecretStr = SecretStr("")
    # Sign-in security (README "Sign-in security"): throttling, Argon2 checks, web sessions.
    sign_in_max_failures: int = Field(default=5, gt=0)
    sign_in_max_failures_per_address: int = Field(default=20, gt=0)
    sign_in_failure_window_minutes: int = Field(default=15, gt=0)
    sign_in_lockout_seconds: int = Field(default=30, gt=0)
    sign_in_lockout_max_seconds: int = Field(default=15 * 60, gt=0)
    password_checks_at_once: int = Field(default=4, gt=0)
    password_check_wait_seconds: float = Field(default=2.0, ge=0)
    # How long a change waits for its order's workflow to accept it before the API answers
    # 503 (the worker is down or stalled). At most 15 s: past Temporal's own long-poll limit
    # (20 s) the server answers "not yet" itself and the SDK sends the call again, unbounded.
    update_accept_timeout_seconds: float = Field(default=5.0, gt=0, le=15)
    web_session_idle_minutes: int = Field(default=30, gt=0)
    # Refund proofs per buyer: uploads an hour, and bytes kept (accepted and pending) at once.
    proof_uploads_per_hour: int = Field(default=20, gt=0)
    proof_quota_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # A stored proof no refund names is deleted once it is this old.
    proof_orphan_grace_seconds: int = Field(default=3600, gt=0)

    @field_validator("refund_correction_period")
    @classmethod
    def _correction_period_is_a_duration(cls, value: str) -> str:
        years, _ = parse_service_term(value)
        if years:
            raise ValueError("REFUND_CORRECTION_PERIOD is days, weeks or time, e.g. P30D")
        return value

    @field_validator(
        "sla_review", "sla_refund_review", "sla_payout", "sla_invoice_issue", "sla_invoice_ship"
    )
    @classmethod
    def _time_limit_is_a_duration(cls, value: str, info: ValidationInfo) -> str:
        parse_time_limit(str(info.field_name).upper(), value)
        return value

    @field_validator("staff_emails")
    @classmethod
    def _staff_emails_parse(cls, value: str) -> str:
        parse_staff_emails(value)
        return value

    @field_validator("service_term")
    @classmethod
    def _term_is_a_duration(cls, value: str) -> str:
        parse_service_term(value)
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.environment != "production":
            return self
        refusals = production_refusals(self)
        if refusals:
            raise ValueError(
                "ENVIRONMENT is production (the default; set ENVIRONMENT=development only on "
                "a developer machine) and refuses to start: " + " ".join(refusals)
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

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
    def update_accept_timeout(self) -> timedelta:
        return timedelta(seconds=self.update_accept_timeout_seconds)

    @property
    def correction_period(self) -> timedelta:
        return parse_service_term(self.refund_correction_period)[1]

    @property
    def time_limits(self) -> dict[str, timedelta]:
        """Each queue's time limit, by queue code (domain.order.QueueLimits' fields)."""
        return {
            queue: parse_time_limit(name, getattr(self, name.lower()))
            for queue, name in TIME_LIMIT_SETTINGS.items()
        }

    def staff_recipients(self, role: str) -> list[str]:
        """The addresses STAFF_EMAILS lists for ``role`` (empty when it lists none)."""
        return parse_staff_emails(self.staff_emails).get(role, [])

    @property
    def temporal_ui_origins(self) -> list[str]:
        """Where the Temporal UI runs, allowed to call the codec endpoint from the browser."""
        if self.temporal_ui_origin:
            return [o.strip() for o in self.temporal_ui_origin.split(",") if o.strip()]
        port = self.temporal_ui_port
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]

    @property
    def effective_traces_file(self) -> Path | None:
        """Where spans are written as JSON lines: TRACES_FILE, else in development a file
        under DATA_DIR; production writes none (it exports by OTLP when configured)."""
        if self.traces_file is not None:
            return self.traces_file
        return self.data_dir / "traces.jsonl" if self.is_development else None

    @property
    def otlp_traces_endpoint(self) -> str:
        """The OTLP/HTTP traces URL, as the OpenTelemetry variables define it (the general
        endpoint gets /v1/traces appended); "" when none is set."""
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return ""

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def proof_dir(self) -> Path:
        return self.data_dir / "proofs"


def production_refusals(settings: Settings) -> list[str]:
    """One sentence per setting production cannot run with, each saying what to set."""
    refusals: list[str] = []
    weakness = jwt_secret_weakness(settings.jwt_secret.get_secret_value())
    if weakness:
        refusals.append(
            f"JWT_SECRET is too weak ({weakness}): set it to at least 32 random bytes, "
            f"e.g. the output of {GENERATE_JWT_SECRET}."
        )
    if not settings.payload_keys.get_secret_value().strip():
        refusals.append(
            "PAYLOAD_KEYS is not set: set it to id:base64 of 32 random bytes, e.g. the "
            f"output of {GENERATE_PAYLOAD_KEY}."
        )
    if settings.service_term != "P1Y":
        refusals.append(
            f"SERVICE_TERM is {settings.service_term!r}: shortened terms are for demos; "
            "unset it (P1Y)."
        )
    return refusals


@lru_cache
def get_settings() -> Settings:
    return Settings()
