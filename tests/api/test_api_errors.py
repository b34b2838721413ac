"""Health, and what callers get when a dependency is down or a route does not exist."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from api.errors import Problem
from api.services.commands import run_update
from db.engine import make_engine, make_sessionmaker
from settings import Settings
from tests.support.http_api import Api
from tests.support.samples import order_body


@asynccontextmanager
async def serving(
    settings: Settings,
    *,
    temporal: Client | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, temporal=temporal, sessions=sessions)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        yield http


async def test_health_reports_database_temporal_and_polled_task_queue_ok(api: Api) -> None:
    # The session's worker may not have polled yet, and health keeps an answer for seconds.
    for _ in range(60):
        response = await api.http.get("/api/health")
        if response.json()["task_queue"] == "ok":
            break
        await asyncio.sleep(0.5)
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "temporal": "ok", "task_queue": "ok"},
    )


async def test_health_with_temporal_down_is_503_naming_it(
    api: Api, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = api.settings.model_copy(
        update={"temporal_address": "127.0.0.1:1", "data_dir": tmp_path}
    )
    async with serving(settings, sessions=session_maker) as http:
        health = await http.get("/api/health")
        assert (health.status_code, health.json()) == (
            503,
            {
                "status": "unavailable",
                "database": "ok",
                "temporal": "unavailable",
                "task_queue": "unavailable",
            },
        )
        placed = await http.post(
            "/api/orders", json=order_body(1), headers=await api.login("leiliang")
        )
        assert (placed.status_code, placed.json()["code"]) == (503, "unavailable")
        assert placed.headers["content-type"] == "application/problem+json"
        listed = await http.get("/api/orders", headers=await api.login("leiliang"))
        assert listed.status_code == 200


async def test_health_with_database_down_is_503_naming_it(api: Api, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    try:
        async with serving(
            api.settings, temporal=api.temporal, sessions=make_sessionmaker(engine)
        ) as http:
            health = await http.get("/api/health")
            body = health.json()
            # (task_queue: whether the session's worker has polled yet; not this test's point)
            assert (health.status_code, body["status"], body["database"], body["temporal"]) == (
                503,
                "unavailable",
                "unavailable",
                "ok",
            )
            listed = await http.get("/api/orders", headers=await api.login("leiliang"))
            assert (listed.status_code, listed.json()["code"]) == (503, "unavailable")
            assert "请稍后重试" in listed.json()["detail"]
    finally:
        await engine.dispose()


async def test_unknown_route_is_a_404_problem(api: Api) -> None:
    response = await api.http.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "code"} <= response.json().keys()


async def test_wrong_method_is_a_405_problem(api: Api) -> None:
    response = await api.http.delete("/api/catalog/products")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


async def test_malformed_json_is_a_422_problem(api: Api) -> None:
    response = await api.http.post(
        "/api/invoice-profiles",
        content=b"{not json",
        headers=await api.login("leiliang") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body", "message": "请求内容不是有效的 JSON"}]


async def test_openapi_documents_every_route_of_the_contract(api: Api) -> None:
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    assert {
        "/api/health", "/api/auth/token", "/api/me", "/api/catalog/products",
        "/api/invoice-profiles", "/api/invoice-profiles/{profile_id}", "/api/orders",
        "/api/orders/{order_no}", "/api/orders/{order_no}/confirm-receipt",
        "/api/orders/{order_no}/refund-decision", "/api/orders/{order_no}/refund",
        "/api/refunds", "/api/refunds/{refund_id}", "/api/invoices", "/api/invoices/{invoice_app_no}",
        "/api/admin/orders", "/api/admin/orders/{order_no}/approve",
        "/api/admin/orders/{order_no}/return", "/api/admin/orders/{order_no}/void",
        "/api/admin/orders/{order_no}/settlement", "/api/admin/refunds/{refund_id}/agree",
        "/api/admin/refunds/{refund_id}/return", "/api/admin/invoices/{invoice_app_no}/issue",
        "/api/admin/invoices/{invoice_app_no}/ship", "/api/admin/invoices/{invoice_app_no}/return",
        "/api/finance/refunds", "/api/finance/refunds/{refund_id}/payout", "/api/finance/payouts",
    } <= set(paths)  # fmt: skip


# /api/health answers 503 with its own body, naming the failing part.
OWN_ERROR_BODIES = {("get", "/api/health", "503")}
SUMMARY = re.compile(r"[A-Z][A-Za-z' ]+ · [\u4e00-\u9fff]+")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


async def test_every_operation_has_a_summary_and_a_description(api: Api) -> None:
    """Not FastAPI's title-cased function name: "English words · 中文标签", and a description."""
    document = (await api.http.get("/openapi.json")).json()
    for method, path, operation in operations(document):
        assert SUMMARY.fullmatch(operation["summary"]), (method, path, operation["summary"])
        assert len(operation.get("description", "")) > 20, (method, path)


async def test_every_error_an_operation_gives_is_documented_as_problem_json(api: Api) -> None:
    """422 as problem+json (FastAPI's HTTPValidationError is gone), 401 where a sign-in is
    needed, 404 where a path names a resource, each status with the codes it answers."""
    document = (await api.http.get("/openapi.json")).json()
    assert "HTTPValidationError" not in json.dumps(document)
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert "errors" in problem["properties"]
    for method, path, operation in operations(document):
        where = (method, path)
        responses = operation["responses"]
        errors = {status for status in responses if int(status) >= 400}
        assert {"422", "503"} <= errors, where
        # Signing in answers 401 for a wrong password, without needing a sign-in itself.
        assert ("401" in errors) == (bool(operation.get("security")) or path == "/api/auth/token")
        assert ("404" in errors) == ("{" in path), where
        # 403: an operation for some roles only (its OAuth2 scopes, which the document
        # shows), or a signed-in change refused from another site's page.
        security = operation.get("security") or []
        roles = {role for needs in security for scopes in needs.values() for role in scopes}
        unsafe = bool(security) and method in ("post", "put", "delete")
        if path != "/api/auth/token":  # its 403: a disabled account
            assert ("403" in errors) == (bool(roles) or unsafe), where
        if "requestBody" in operation:
            assert {"400", "413"} <= errors, where
        for status in errors - {s for m, p, s in OWN_ERROR_BODIES if (m, p) == where}:
            content = responses[status]["content"]
            assert list(content) == ["application/problem+json"], (where, status)
            media = content["application/problem+json"]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}
            examples = media["examples"]
            assert examples and all(
                e["value"]["status"] == int(status) and e["value"]["code"] == code
                for code, e in examples.items()
            ), (where, status)
            assert all(f"`{code}`" in responses[status]["description"] for code in examples)
    token = document["paths"]["/api/auth/token"]["post"]["responses"]
    assert "too_many_attempts" in token["429"]["content"]["application/problem+json"]["examples"]
    assert document["paths"]["/api/finance/payouts/batch"]["post"]["security"] == [
        {"OAuth2PasswordBearer": ["admin", "finance"]}
    ]
    confirm = document["paths"]["/api/orders/{order_no}/confirm-receipt"]["post"]["responses"]
    assert "invalid_transition" in confirm["409"]["content"]["application/problem+json"]["examples"]


async def test_every_request_body_has_a_valid_example(api: Api) -> None:
    from api.openapi_examples import BODIES, FORMS

    document = (await api.http.get("/openapi.json")).json()
    for method, path, operation in operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            assert "example" in media, (method, path)
    for model, body in BODIES.items():
        model.model_validate(body)  # raises when an example no longer fits its model
    assert set(FORMS) <= set(document["components"]["schemas"])


def test_field_path_names_nested_fields_and_list_items() -> None:
    from api.field_messages import field_path

    assert field_path(("body", "module_codes", 0)) == "module_codes[0]"
    assert field_path(("query", "tab")) == "tab"
    assert field_path(("body", "patch", "title")) == "patch.title"
    assert field_path(("body",)) == "body"


# A word of Latin letters in a sentence meant for people; codes such as "JSON" are named here.
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
ALLOWED_WORDS = {
    "JSON",
    "MB",
    "Idempotency",
    "Key",
    "Temporal",
    "NICK",
}  # NICK: the guide's 卖家 NICK


def english_words(text: str) -> set[str]:
    return set(ENGLISH_WORD.findall(text)) - ALLOWED_WORDS


async def test_an_empty_order_is_refused_field_by_field_in_chinese(api: Api) -> None:
    response = await api.http.post("/api/orders", json={}, headers=await api.login("leiliang"))
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["shop_name"] == "请填写店铺名称"
    assert errors["product_code"] == "请填写商品编号"
    for message in [*errors.values(), response.json()["detail"]]:
        assert english_words(message) == set(), message


async def test_wrong_types_and_unknown_fields_are_refused_in_chinese(api: Api) -> None:
    body = order_body(1) | {"invoice_profile_id": "first", "status": "completed"}
    response = await api.http.post("/api/orders", json=body, headers=await api.login("leiliang"))
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"invoice_profile_id": "发票信息应为整数", "status": "不接受此字段"}


async def test_missing_things_and_unknown_paths_answer_in_chinese(api: Api) -> None:
    buyer = await api.login("leiliang")
    missing = await api.http.get("/api/orders/BS-ZX000", headers=buyer)
    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "订单 BS-ZX000 不存在或无权查看",
    )
    unknown = await api.http.get("/api/nothing-here")
    assert unknown.json()["detail"] == "页面或资源不存在"
    staff_only = await api.http.get("/api/admin/orders", headers=buyer)
    assert staff_only.status_code == 403
    assert english_words(staff_only.json()["detail"]) == set()


def test_each_kind_of_field_error_reads_as_a_chinese_sentence() -> None:
    from api.field_messages import chinese_message

    def said(kind: str, loc: tuple[str | int, ...], **ctx: object) -> str:
        return chinese_message({"type": kind, "loc": loc, "msg": "English", "ctx": ctx})

    assert said("missing", ("body", "consignee", "mobile")) == "请填写手机"
    assert said("string_too_long", ("body", "shop_name"), max_length=200) == (
        "店铺名称不能超过200个字"
    )
    assert said("greater_than_equal", ("query", "page"), ge=1) == "页码不能小于1"
    assert said("enum", ("body", "refund_type")) == "退款类型的取值不在可选范围内"
    assert said("something_new", ("body", "mystery")) == "该项格式不正确"
    assert (
        chinese_message(
            {"type": "value_error", "loc": ("mobile",), "msg": "Value error, 手机号有误"}
        )
        == "手机号有误"
    )


def _unpolled(settings: Settings, **overrides: Any) -> Settings:
    """Settings naming a task queue no worker polls: every run started there waits."""
    return settings.model_copy(
        update={"temporal_task_queue": f"nobody-polls-{uuid.uuid4().hex[:8]}"} | overrides
    )


async def test_health_names_a_task_queue_no_worker_polls_as_degraded(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with serving(
        _unpolled(api.settings), temporal=api.temporal, sessions=session_maker
    ) as http:
        health = await http.get("/api/health")
    assert (health.status_code, health.json()) == (
        200,
        {"status": "degraded", "database": "ok", "temporal": "ok", "task_queue": "no_pollers"},
    )


async def test_a_placement_no_worker_accepts_answers_503_not_accepted_with_retry_after(
    api: Api, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    """The run is started, but nothing takes its tasks: the answer comes after the bound, not
    when a worker shows up."""
    settings = _unpolled(api.settings, update_accept_timeout_seconds=0.5)
    buyer = await api.login("leiliang")
    body = await api.place_body()
    async with serving(settings, temporal=api.temporal, sessions=session_maker) as http:
        keyed = await http.post(
            "/api/orders", json=body, headers=buyer | {"Idempotency-Key": uuid.uuid4().hex}
        )
        keyless = await http.post("/api/orders", json=await api.place_body(), headers=buyer)
    for answer in (keyed, keyless):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["code"] == "not_accepted"
        assert "未受理这次操作" in answer.json()["detail"]
    assert "同一个 Idempotency-Key" in keyed.json()["detail"]
    # Without a key a retry is a new request: the person is told to look before retrying.
    assert "Idempotency-Key" not in keyless.json()["detail"]
    assert "查看订单状态" in keyless.json()["detail"]


def test_the_acceptance_bound_stays_below_temporals_own_long_poll() -> None:
    """Past 20 s Temporal answers "not yet" itself and the SDK asks again, without end."""
    assert Settings(update_accept_timeout_seconds=15).update_accept_timeout.total_seconds() == 15
    for refused in (0, 16, 60):
        with pytest.raises(ValidationError):
            Settings(update_accept_timeout_seconds=refused)


async def test_changes_and_placement_document_503_not_accepted_with_retry_after(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    changes = [
        ("post", "/api/orders"),
        ("post", "/api/admin/orders/{order_no}/approve"),
        ("post", "/api/orders/{order_no}/confirm-receipt"),
        ("put", "/api/orders/{order_no}/refund"),
        ("post", "/api/finance/refunds/{refund_id}/payout"),
        ("post", "/api/admin/invoices/{invoice_app_no}/issue"),
    ]
    for method, path in changes:
        answer = document["paths"][path][method]["responses"]["503"]
        examples = answer["content"]["application/problem+json"]["examples"]
        assert {"unavailable", "not_accepted"} <= examples.keys(), (method, path)
        assert "Retry-After" in answer["headers"], (method, path)
    reads = document["paths"]["/api/orders"]["get"]["responses"]["503"]
    assert "not_accepted" not in reads["content"]["application/problem+json"]["examples"]


class _RecoveringRun:
    """A workflow handle whose run is recovering from a killed worker: Temporal refuses
    every update with WorkflowNotReadyFailure in the status details."""

    def __init__(self) -> None:
        status = GrpcStatus(
            code=RPCStatusCode.FAILED_PRECONDITION, message="Workflow Task in failed state"
        )
        status.details.add().Pack(WorkflowNotReadyFailure())
        self.error = RPCError(
            status.message, RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString()
        )

    async def start_update(self, *_: Any, **__: Any) -> Any:
        raise self.error


@pytest.mark.parametrize("keyed", [True, False])
async def test_an_update_refused_while_the_run_recovers_is_a_retryable_503(keyed: bool) -> None:
    handle: Any = _RecoveringRun()
    with pytest.raises(Problem) as refused:
        await run_update(
            handle,
            "approve",
            update_id="key" if keyed else None,
            result_type=dict,
            accept_within=timedelta(seconds=2),
            keyed=keyed,
        )
    assert refused.value.status == 503
    assert refused.value.code == "not_accepted"
    assert refused.value.headers == {"Retry-After": "1"}
    assert "订单未改变" in refused.value.detail
    assert ("Idempotency-Key" in refused.value.detail) is keyed


async def test_any_other_temporal_refusal_of_an_update_is_not_read_as_recovering() -> None:
    handle: Any = _RecoveringRun()
    handle.error = RPCError(
        "bad", RPCStatusCode.FAILED_PRECONDITION, GrpcStatus().SerializeToString()
    )
    with pytest.raises(RPCError):
        await run_update(
            handle,
            "approve",
            update_id=None,
            result_type=dict,
            accept_within=timedelta(seconds=2),
            keyed=False,
        )
