"""Every error leaves as application/problem+json: {type, title, status, detail, code}.

422 answers add ``errors``: one ``{"field", "message"}`` per invalid field, whether the
request failed FastAPI's own parsing or a rule checked later by a service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.field_messages import chinese_message, field_path

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE_URI = "https://mall.baison.net/problems/"

# The machine-readable ``code`` of each status when the raiser names none.
DEFAULT_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_transition",
    413: "too_large",
    422: "invalid_input",
    500: "internal_error",
    503: "unavailable",
}

# What a person reads when Starlette itself refuses (an unknown path, a wrong method).
FRAMEWORK_DETAILS = {
    400: "请求格式不正确",
    404: "页面或资源不存在",
    405: "不支持此请求方法",
    413: "请求内容过大",
}

# Temporal answers that mean "the service is not there right now", not "you asked wrong".
UNAVAILABLE_RPC = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
    }
)
RETRY_LATER = "未做任何更改，请稍后重试"


class Problem(Exception):  # noqa: N818 - named after RFC 9457 "problem details"
    """Raised anywhere in the API; the handler turns it into a problem+json answer."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or DEFAULT_CODES.get(status, "error")
        self.errors = [dict(e) for e in errors] if errors is not None else None
        self.headers = dict(headers) if headers else None

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE_URI + self.code,
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return JSONResponse(
            body, status_code=self.status, media_type=PROBLEM_MEDIA_TYPE, headers=self.headers
        )


def not_found(what: str, key: object = None) -> Problem:
    """The one answer for "missing" and "not yours", so neither can be told apart;
    ``what`` names the thing in Chinese ("订单"), ``key`` which one."""
    named = what if key is None else f"{what} {key} "
    return Problem(404, f"{named}不存在或无权查看")


def invalid_fields(errors: Iterable[tuple[str, str]]) -> Problem:
    """422 naming each invalid field; ``errors`` holds (field, message) pairs."""
    listed = [{"field": field, "message": message} for field, message in errors]
    # The detail is read by people (pages show it): the sentences, each naming its field.
    detail = "；".join(dict.fromkeys(e["message"] for e in listed)) or "输入有误"
    return Problem(422, detail, errors=listed)


def invalid_field(field: str, message: str) -> Problem:
    return invalid_fields([(field, message)])


def from_validation_errors(errors: Iterable[Mapping[str, Any]]) -> Problem:
    return invalid_fields((field_path(tuple(e.get("loc", ()))), chinese_message(e)) for e in errors)


def rpc_is_unavailable(error: RPCError) -> bool:
    return error.status in UNAVAILABLE_RPC


def _is_connection_failure(error: DBAPIError) -> bool:
    return (
        error.connection_invalidated
        or isinstance(error, OperationalError | InterfaceError)
        or isinstance(error.orig, ConnectionError)
    )


def _dependency_failed(error: Exception, *, down: bool, name: str, odd: str) -> JSONResponse:
    """503 while the dependency is down (nothing changed; retry later), else a logged 500."""
    if down:
        log.warning("%s is unavailable: %s", name, error)
        return Problem(503, f"{name}暂时不可用；{RETRY_LATER}").response()
    log.error(odd, exc_info=error)
    return Problem(500, odd).response()


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the problem+json shape."""

    @app.exception_handler(Problem)
    async def problem(_: Request, exc: Problem) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return from_validation_errors(exc.errors()).response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = str(exc.detail)
        # Starlette's and FastAPI's own words are English ("Not Found", "Too many fields.
        # Maximum number of fields is 1000."); ours are Chinese, so English means theirs.
        if detail.isascii():
            detail = FRAMEWORK_DETAILS.get(exc.status_code, "请求无法处理")
        return Problem(exc.status_code, detail, headers=exc.headers).response()

    @app.exception_handler(RPCError)
    async def temporal_error(_: Request, exc: RPCError) -> JSONResponse:
        return _dependency_failed(
            exc,
            down=rpc_is_unavailable(exc),
            name="工作流服务（Temporal）",
            odd="工作流服务（Temporal）返回了意外的结果",
        )

    @app.exception_handler(RPCTimeoutOrCancelledError)
    async def temporal_timeout(_: Request, exc: RPCTimeoutOrCancelledError) -> JSONResponse:
        log.warning("Temporal call timed out: %s", exc)
        return Problem(
            503,
            "订单未能及时响应；请用同一个 Idempotency-Key 重试，可得到这次操作的结果而不会重复执行",
        ).response()

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        return _dependency_failed(
            exc,
            down=_is_connection_failure(exc),
            name="数据库",
            odd="数据库发生意外错误",
        )

    @app.exception_handler(ConnectionError)
    async def connection_error(_: Request, exc: ConnectionError) -> JSONResponse:
        # asyncpg raises the socket's own error when it cannot reach the server.
        log.warning("dependency unreachable: %s", exc)
        return Problem(503, f"依赖的服务暂时无法连接；{RETRY_LATER}").response()

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return Problem(500, "系统内部错误，请稍后重试").response()
