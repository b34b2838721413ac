"""Errors met by a browser on a page answer as a page in the site's layout; programs calling
the API keep problem+json (api/errors.py). A browser is told apart by what it accepts."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from api.errors import PROBLEM_MEDIA_TYPE
from api.web.plumbing import HOME, page_user, render

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

HEADINGS = {
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "操作方式不正确",
    409: "当前状态不能进行此操作",
    413: "提交的内容过大",
    422: "提交的内容有误",
    429: "操作过于频繁",
    500: "系统出错了",
    503: "系统繁忙",
}
# Paths that belong to programs, whatever their Accept header says.
PROGRAM_PATHS = ("/api/", "/codec", "/metrics", "/openapi.json", "/docs")


def wants_page(request: Request) -> bool:
    if request.url.path.startswith(PROGRAM_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "")


async def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    try:
        me = await page_user(request)
    except Exception:  # the database may be what failed; the page shows without the user
        me = None
    return render(
        request,
        "error.html",
        me,
        status,
        heading=HEADINGS.get(status, "请求无法处理"),
        detail=detail,
        status=status,
        home=HOME[me.role] if me else "/shop",
    )


def _for_browsers(handler: Handler) -> Handler:
    """``handler`` (one of api/errors.py's) with its problem+json turned into a page when a
    browser asked for a page; headers such as Retry-After are kept."""

    async def answer(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if not wants_page(request) or response.media_type != PROBLEM_MEDIA_TYPE:
            return response
        problem = json.loads(bytes(response.body))
        page = await error_page(request, response.status_code, str(problem.get("detail", "")))
        for name, value in response.headers.items():
            if name.lower() not in ("content-type", "content-length"):
                page.headers[name] = value
        return page

    return answer


def install(app: FastAPI) -> None:
    """Wraps every error handler installed so far (api/errors.py's) for browsers."""
    for exc_class, handler in list(app.exception_handlers.items()):
        app.exception_handlers[exc_class] = _for_browsers(handler)
