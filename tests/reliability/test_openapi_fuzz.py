"""Schemathesis against the OpenAPI document: every operation, as every role, valid and
invalid data, sent to the real API process of the end-to-end stack."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from db import models, queries
from db.engine import make_engine, make_sessionmaker
from devstack.processes import Stack
from domain.order import Actor
from domain.statuses import Role
from settings import Settings
from tests.reliability.report import Section
from tests.support.http_api import session_token
from tests.support.keys import TEST_PAYLOAD_KEYS

# CI runs the same requests every time; RELIABILITY_FUZZ_EXAMPLES=200 explores fresh ones.
EXPLORE = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "0"))
EXAMPLES_PER_OPERATION = EXPLORE or 12
ROLES = ("anonymous", "buyer", "reviewer", "finance", "admin")
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
# Every answer, success or error, against the document: its status is one the operation
# documents, its media type the one documented for that status, its body that status's
# schema (the Problem schema for every error); and a request invalid by the schema is refused.
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(payload_keys=TEST_PAYLOAD_KEYS)).openapi()
)
# An Err (a schema schemathesis cannot load) has no .ok() and fails collection loudly.
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]


async def _headers_per_operation(settings_: Settings) -> dict[str, list[dict[str, str]]]:
    """For each role, one bearer header per operation, each signed in afresh in the stack's
    database: an operation that signs out (POST /api/auth/logout) ends only its own."""
    engine = make_engine(settings_.effective_database_url)
    sessions = make_sessionmaker(engine)
    headers: dict[str, list[dict[str, str]]] = {"anonymous": [{} for _ in OPERATIONS]}
    try:
        for role in ROLES[1:]:
            # Users of each role made for the fuzz, so it touches nobody's real data; their
            # accounts exist (as every signed-in caller's does) but no password opens them.
            actor = Actor(username=f"fuzz-{role}", role=Role(role), company="模糊测试")
            await _account(sessions, actor)
            headers[role] = [
                {"Authorization": f"Bearer {await session_token(sessions, settings_, actor)}"}
                for _ in OPERATIONS
            ]
    finally:
        await engine.dispose()
    return headers


async def _account(sessions: async_sessionmaker[AsyncSession], actor: Actor) -> None:
    async with sessions() as db:
        if await queries.user(db, username=actor.username) is None:
            db.add(
                models.User(
                    username=actor.username,
                    password_hash="!",
                    role=actor.role.value,
                    company=actor.company,
                    email=None,
                    created_at=datetime.now(UTC),
                )
            )
            await db.commit()


def _problems(response: Any, label: str) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"{label}: {response.status_code} {response.text[:200]}")
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        if content_type != "application/problem+json":
            found.append(f"{label}: {response.status_code} as {content_type!r}")
        else:
            body = response.json()
            if not body.keys() >= PROBLEM_KEYS or body["status"] != response.status_code:
                found.append(f"{label}: problem body {body}")
    return found


def test_fuzzed_requests_get_the_answers_the_openapi_document_describes(
    e2e_stack: Stack, e2e_settings: Settings, report: Section
) -> None:
    """Schemathesis over every operation of the OpenAPI document, as each role

    Generated requests, valid and invalid by the schema, for every operation of
    /openapi.json, sent to the real API process as an anonymous caller and as each role:
    none gets a 5xx, and every answer conforms to the document (schemathesis's status code,
    content type and response schema checks): a status the operation documents, its media
    type, a body matching its schema, every error problem+json; invalid requests refused.
    """
    base_url = f"http://127.0.0.1:{e2e_settings.api_port}"
    session = requests.Session()
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    sent = 0
    started = time.monotonic()
    headers = asyncio.run(_headers_per_operation(e2e_settings))
    for role in ROLES:
        for operation, auth in zip(OPERATIONS, headers[role], strict=True):
            strategy = st.one_of(
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            )

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=not EXPLORE,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def probe(case: schemathesis.Case) -> None:
                nonlocal sent
                # Called right below, in this iteration: role and auth are this iteration's.
                response = case.call(base_url=base_url, session=session, headers=auth, timeout=30)  # noqa: B023
                sent += 1
                statuses[response.status_code] += 1
                label = f"{role} {case.operation.label}"  # noqa: B023
                failures.extend(_problems(response, label))
                try:
                    case.validate_response(response, checks=CONFORMANCE)
                except FailureGroup as found:  # one entry per failed check
                    for failure in found.exceptions:
                        what = " ".join(str(failure).split())
                        failures.append(f"{label} → {response.status_code}: {what}"[:600])

            probe()
    report.try_(
        f"{len(OPERATIONS)} operations of /openapi.json × {len(ROLES)} callers (anonymous, "
        f"buyer, reviewer, finance, admin), {EXAMPLES_PER_OPERATION} generated requests each, "
        "valid and invalid by the schema (schemathesis 4 strategies; "
        + (
            "fresh random requests"
            if EXPLORE
            else "hypothesis derandomised: the same requests every run"
        )
        + "), against the API process of the end-to-end stack"
    )
    report.count("operations", len(OPERATIONS))
    report.count("requests", sent)
    report.count("answers checked against the document (status, media type, body)", sent)
    report.count("answers by status", ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    report.count("seconds", f"{time.monotonic() - started:.0f}")
    assert failures == [], "\n".join(failures[:40])
    report.hold(
        "no request got a 5xx; every answer's status was one its operation documents, with "
        "the documented media type and a body matching that status's schema (every error "
        "problem+json carrying its status); every request invalid by the schema was refused"
    )
