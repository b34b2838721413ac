"""The OpenAPI document as the contract of API.md: every error answer an operation can give,
documented as application/problem+json with its ``code``s, and an example of every body.

Routes declare only what the route itself decides (a workflow command's 409, a throttle's
429) with the ``responses=`` dicts below; what follows from an operation's shape is added
here, in one place, when the document is built:

- every operation: 422 (a parameter is invalid, or a NUL is in the path or query, which
  api/limits.py refuses everywhere) and 503 (the database or Temporal is down);
- signed in (it names a security scheme): 401; and 403 when it is for some roles only
  (its OAuth2 scopes) or changes something (a sign-in cookie sent from another site);
- a path parameter: 404 (missing or not the caller's: the two are not told apart);
- a request body: 400 (it cannot be parsed) and 413 (over the size limit).

FastAPI's own 422 (``HTTPValidationError`` in application/json) never leaves this API, so
it is replaced by the problem+json it really answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from api.errors import PROBLEM_BASE_URI, PROBLEM_MEDIA_TYPE
from api.services.commands import NOT_ACCEPTED as NOT_ACCEPTED_CODE
from api.services.commands import not_accepted
from settings import Settings

PROBLEM_SCHEMA = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


class FieldErrorOut(BaseModel):
    field: str = Field(description="the invalid field, e.g. `reminder_email` or `module_codes[0]`")
    message: str = Field(description="what is wrong with it, in Chinese")


class ProblemOut(BaseModel):
    """RFC 9457 problem details, as every error of this API answers."""

    type: str = Field(description=f"{PROBLEM_BASE_URI}{{code}}")
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(description="the HTTP status code, repeated")
    detail: str = Field(description="what happened, a sentence in Chinese for people")
    code: str = Field(description="machine-readable reason, listed per answer below")
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="422 only: one entry per invalid field"
    )


@dataclass(frozen=True)
class ErrorAnswer:
    """One error status as the document shows it: what it means and, per ``code``, a
    sentence the API really answers with it."""

    description: str
    codes: Mapping[str, str]
    field_errors: tuple[tuple[str, str], ...] = field(default=())
    # Response headers some of its answers carry, by name: what each says.
    headers: Mapping[str, str] = field(default_factory=dict)


ERRORS: dict[int, ErrorAnswer] = {
    400: ErrorAnswer(
        "The body cannot be parsed, or a form carries more than one file (请求格式不正确).",
        {"bad_request": "请求格式不正确"},
    ),
    401: ErrorAnswer(
        "Not signed in, or the token expired or was signed out (未登录).",
        {"not_authenticated": "未登录或登录已过期，请重新登录"},
    ),
    403: ErrorAnswer(
        "Signed in with a role this operation is not for (无权访问).",
        {"forbidden": "买家无权使用此功能（仅限审核人员、管理员）"},
    ),
    404: ErrorAnswer(
        "Not found, or not the caller's: the two answers are the same (不存在或无权查看).",
        {"not_found": "订单 BS-ZX202210181408310000 不存在或无权查看"},
    ),
    409: ErrorAnswer(
        "The order's current state does not allow this step; nothing changed "
        "(当前状态不能进行此操作). `duplicate`: the same thing exists already.",
        {
            "invalid_transition": "订单 BS-ZX202210181408310000 已选择「退款」，一旦选择不能更换",
            "duplicate": "服务市场订单号 JD20221018001 已有有效订单；一个服务市场订单只能订购一次",
        },
    ),
    413: ErrorAnswer(
        "The body is over the size limit and was not read (请求内容过大).",
        {"too_large": "请求内容超过 1048576 字节的上限，未作处理"},
    ),
    422: ErrorAnswer(
        "Invalid input, one entry of `errors` per invalid field; nothing changed (输入有误).",
        {"invalid_input": "请填写正确的邮箱地址"},
        field_errors=(("reminder_email", "请填写正确的邮箱地址"),),
    ),
    429: ErrorAnswer(
        "Too many attempts; `Retry-After` says how many seconds to wait (操作过于频繁).",
        {"too_many_attempts": "登录失败次数过多，请在 60 秒后重试"},
    ),
    503: ErrorAnswer(
        "A dependency (the database or Temporal) is down; nothing was lost or changed, "
        "safe to retry (系统繁忙).",
        {"unavailable": "数据库暂时不可用；未做任何更改，请稍后重试"},
    ),
}


def _example(status: int, code: str, detail: str, answer: ErrorAnswer) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE_URI + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if answer.field_errors:
        body["errors"] = [{"field": f, "message": m} for f, m in answer.field_errors]
    return {"summary": code, "value": body}


CODES = " Codes: "


def _described(words: str, codes: Iterable[str]) -> str:
    return words + CODES + ", ".join(f"`{code}`" for code in codes) + "."


def problem_response(status: int, answer: ErrorAnswer) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _described(answer.description, answer.codes),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": dict(PROBLEM_REF),
                "examples": {
                    code: _example(status, code, detail, answer)
                    for code, detail in answer.codes.items()
                },
            }
        },
    }
    if answer.headers:
        response["headers"] = {
            name: {"description": words, "required": False, "schema": {"type": "integer"}}
            for name, words in answer.headers.items()
        }
    return response


def problems(*statuses: int, **extra: ErrorAnswer) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the standard answers of ``statuses``, and answers of its
    own given as ``s409=ErrorAnswer(...)`` (their codes join the standard ones)."""
    answers = {status: ERRORS[status] for status in statuses}
    for name, answer in extra.items():
        status = int(name.removeprefix("s"))
        known = answers.get(status)
        answers[status] = (
            answer
            if known is None
            else ErrorAnswer(
                answer.description,
                {**known.codes, **answer.codes},
                answer.field_errors or known.field_errors,
                {**known.headers, **answer.headers},
            )
        )
    return {status: problem_response(status, answer) for status, answer in answers.items()}


# A call authenticated by the sign-in cookie that changes something, from another site's page.
CROSS_SITE = ErrorAnswer(
    "Authenticated by the sign-in cookie and sent from another site's page; bearer tokens "
    "are not affected (`cross_site`).",
    {"cross_site": "请求不是来自本站页面，已拒绝"},
)
UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})


# --- what routes declare ---------------------------------------------------------------

# A change the order's workflow did not accept in time (no worker takes its tasks).
NOT_ACCEPTED = ErrorAnswer(
    "A dependency is down, nothing lost, safe to retry (系统繁忙). `not_accepted`: the order's "
    "workflow did not accept the change within `UPDATE_ACCEPT_TIMEOUT_SECONDS` (no worker is "
    "taking its tasks); it may still apply later, and a retry with the same `Idempotency-Key` "
    "applies it exactly once. Sent with `Retry-After`.",
    {
        **ERRORS[503].codes,
        NOT_ACCEPTED_CODE: not_accepted(
            timedelta(seconds=Settings.model_fields["update_accept_timeout_seconds"].default),
            keyed=True,
        ).detail,
    },
    headers={"Retry-After": "`not_accepted` only: seconds to wait before retrying"},
)
# A step of an order's workflow (审核, 确认收货, 退款, 开票 …), and placing an order.
COMMAND = problems(409, s503=NOT_ACCEPTED)
# POST /api/auth/token: the password form.
SIGN_IN = problems(
    s401=ErrorAnswer(
        "Wrong username or password (用户名或密码错误).", {"not_authenticated": "用户名或密码错误"}
    ),
    s403=ErrorAnswer(
        "The account is disabled (账号已停用).", {"account_disabled": "该账号已停用，请联系管理员"}
    ),
    s429=ERRORS[429],
    s503=ErrorAnswer(
        "Too many sign-ins are being checked at once (`sign_in_busy`, with `Retry-After`).",
        {"sign_in_busy": "登录请求过多，请稍后重试"},
    ),
)
# The refund form with its proof (退款证明).
PROOF_UPLOAD = problems(
    409,
    s503=NOT_ACCEPTED,
    s413=ErrorAnswer(
        "The proof is over its size limit, or the buyer's stored proofs are at their quota "
        "(`proof_quota_exceeded`).",
        {"proof_quota_exceeded": "退款证明存储已满：每位买家最多保存 50 MB，请联系客服处理"},
    ),
    s429=ErrorAnswer(
        "Too many proofs uploaded this hour; `Retry-After` says when the next one is taken.",
        {"too_many_uploads": "上传退款证明过于频繁：每小时最多 20 次，请 30 分钟后再试"},
    ),
)


# --- what the document adds to every operation ---------------------------------------


def _roles(operation: Mapping[str, Any]) -> list[str]:
    """The roles an operation is for: its OAuth2 scopes (api/auth.py ``roles_only``)."""
    requirements = operation.get("security") or ()
    return sorted({role for needs in requirements for scopes in needs.values() for role in scopes})


def _forbidden(method: str, operation: Mapping[str, Any]) -> ErrorAnswer | None:
    roles = _roles(operation)
    cross_site = method in UNSAFE_METHODS
    if not roles and not cross_site:
        return None
    words = [f"Signed in with another role than {', '.join(roles)} (无权访问)."] if roles else []
    codes = dict(ERRORS[403].codes) if roles else {}
    if cross_site:
        words.append(CROSS_SITE.description)
        codes |= CROSS_SITE.codes
    return ErrorAnswer(" Or: ".join(words), codes)


def _implied(method: str, operation: Mapping[str, Any]) -> dict[int, ErrorAnswer]:
    statuses = [422, 503]
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.append(404)
    if "requestBody" in operation:
        statuses += [400, 413]
    answers = {status: ERRORS[status] for status in statuses}
    if operation.get("security"):
        answers[401] = ERRORS[401]
        forbidden = _forbidden(method, operation)
        if forbidden is not None:
            answers[403] = forbidden
    return dict(sorted(answers.items()))


def _is_problem(response: Mapping[str, Any]) -> bool:
    return PROBLEM_MEDIA_TYPE in response.get("content", {})


def _merge(declared: dict[str, Any], implied: dict[str, Any]) -> dict[str, Any]:
    """A route's own answer for a status keeps its words; the standard codes join its own."""
    if not _is_problem(declared):
        return declared  # e.g. /api/health's 503, which answers its own body
    merged = copy.deepcopy(declared)
    examples = merged["content"][PROBLEM_MEDIA_TYPE].setdefault("examples", {})
    for code, example in implied["content"][PROBLEM_MEDIA_TYPE]["examples"].items():
        examples.setdefault(code, example)
    words = str(merged["description"]).rpartition(CODES)[0] or merged["description"]
    merged["description"] = _described(words, examples)
    return merged


def document_errors(method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, answer in _implied(method, operation).items():
        implied = problem_response(status, answer)
        declared = responses.get(str(status))
        if declared is None or (not _is_problem(declared) and status == 422):
            responses[str(status)] = implied  # FastAPI's HTTPValidationError answer, replaced
        else:
            responses[str(status)] = _merge(declared, implied)


def add_examples(operation: dict[str, Any], examples: Mapping[str, Any]) -> None:
    """The example of a body, by the name of its schema (see api/openapi_examples.py)."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        ref: str = media.get("schema", {}).get("$ref", "")
        name = ref.rpartition("/")[2]
        if name in examples and "example" not in media:
            media["example"] = examples[name]


def _problem_schemas() -> dict[str, Any]:
    schema = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, PROBLEM_SCHEMA: schema}


def contract_document(app: FastAPI, examples: Mapping[str, Any]) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            document_errors(method, operation)
            add_examples(operation, examples)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_problem_schemas())
    return document


def install(app: FastAPI, examples: Mapping[str, Any]) -> None:
    """Serve ``contract_document`` as /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = contract_document(app, examples)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented override
