"""docker-compose.yml is the production topology. No Docker engine runs here, so its
structure and wiring are checked as data: services, secrets, health checks, ordering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def env_of(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES[service].get("environment", {}).items()}


def test_compose_has_the_whole_topology() -> None:
    assert set(SERVICES) >= {
        "postgresql",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "mailpit",
        "migrate",
        "api",
        "worker",
    }


def test_worker_can_be_scaled() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"] == ["python", "worker.py"]


@pytest.mark.parametrize("service", ["api", "worker", "migrate"])
def test_app_services_get_required_secrets_and_point_at_the_stack(service: str) -> None:
    env = env_of(service)
    for secret in ("JWT_SECRET", "PAYLOAD_KEYS"):
        assert re.fullmatch(r"\$\{" + secret + r":\?[^}]*\}", env[secret]), (
            f"{service} {secret} must be required"
        )
    assert (
        env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        and "@postgresql:5432/" in env["DATABASE_URL"]
    )
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["SMTP_HOST"] == "mailpit"
    assert env["ENVIRONMENT"] == "production"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_app_services_log_json_and_trace_to_the_configured_collector(service: str) -> None:
    env = env_of(service)
    assert env["LOG_FORMAT"] == "json"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"


@pytest.mark.parametrize("service", ["api", "worker"])
def test_app_services_start_after_migrations_and_search_attributes(service: str) -> None:
    depends = SERVICES[service]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["temporal-setup"]["condition"] == "service_completed_successfully"


def test_temporal_runs_on_postgresql_after_it_is_healthy() -> None:
    temporal = SERVICES["temporal"]
    # Through its schema tool, which waits for a healthy PostgreSQL.
    assert (
        temporal["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    )
    assert SERVICES["temporal-schema"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    assert env_of("temporal")["DB"].startswith("postgres")
    assert env_of("temporal")["POSTGRES_SEEDS"] == "postgresql"
    assert "healthcheck" in temporal


def test_search_attributes_created_match_the_workflows() -> None:
    from workflows.search_attributes import ALL_KEYS

    script = " ".join(SERVICES["temporal-setup"]["command"])
    for key in ALL_KEYS:
        assert key.name in script


def test_temporal_ui_decodes_through_the_api_codec_endpoint() -> None:
    assert env_of("temporal-ui")["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert env_of("temporal-ui")["TEMPORAL_ADDRESS"] == "temporal:7233"


@pytest.mark.parametrize("service", ["postgresql", "temporal", "mailpit", "api"])
def test_long_running_services_have_health_checks(service: str) -> None:
    check = SERVICES[service]["healthcheck"]
    assert check["test"] and check["interval"] and check["retries"]


def test_api_publishes_its_port_and_health_endpoint() -> None:
    api = SERVICES["api"]
    assert "8000:8000" in api["ports"]
    assert "/api/health" in " ".join(api["healthcheck"]["test"])


def test_dockerfile_builds_both_processes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile and "USER app" in dockerfile
    assert "api.app:create_app" in dockerfile
