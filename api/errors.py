"""Every error as application/problem+json: {type, title, status, detail, code[, errors]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger("api.errors")

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    503: "Service Unavailable",
}
CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_transition",
    413: "too_large",
    422: "invalid_input",
    503: "unavailable",
}


class Problem(Exception):
    """Raised by services; becomes a problem+json answer."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or CODES.get(status, "error")
        self.errors = errors
        self.headers = headers


def field_error(field: str, message: str) -> Problem:
    return Problem(422, f"{field}: {message}", errors=[{"field": field, "message": message}])


def not_found(what: str) -> Problem:
    return Problem(404, f"{what} not found")


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://mall.baison.net/problems/{problem.code}",
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM, headers=problem.headers)


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or "body"


def is_unavailable(error: RPCError) -> bool:
    return error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(Problem(422, detail or "invalid input", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(Problem(exc.status_code, str(exc.detail), headers=headers))

    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: RPCError) -> JSONResponse:
        if is_unavailable(exc):
            return problem_response(Problem(503, "Temporal is unavailable; nothing was changed, retry later"))
        log.exception("unexpected Temporal error", exc_info=exc)
        return problem_response(Problem(503, f"Temporal refused the call: {exc.message}"))

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return problem_response(Problem(503, "the database is unavailable; nothing was changed, retry later"))

    @app.exception_handler(OSError)
    async def _os(_: Request, exc: OSError) -> JSONResponse:
        log.warning("dependency unreachable: %s", exc)
        return problem_response(Problem(503, "a dependency is unreachable; nothing was changed, retry later"))


def invalid(error: Any) -> Problem:
    """A pydantic ValidationError raised outside FastAPI's own parsing, field by field."""
    errors = [{"field": _field_path(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in error.errors()]
    return Problem(422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)
