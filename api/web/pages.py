"""The pages people use every day, over the same services and rules as the API: one
router per audience, installed together by ``install``.

Every action form posts to its page, builds the command the API route would build, and
redirects back with the outcome (post/redirect/get); refusals show the workflow's own sentence.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.csrf import require_page_token
from api.web import (
    address_book,
    back_office,
    buyer_center,
    dev_tools,
    error_pages,
    finance,
    shop,
    sign_in,
    user_center,
)
from api.web.plumbing import PageMissing, PageRedirect

ROUTERS = (
    sign_in.router,
    shop.router,
    buyer_center.router,
    user_center.router,
    address_book.router,
    back_office.router,
    finance.router,
    dev_tools.router,
)


def install(app: FastAPI) -> None:
    @app.exception_handler(PageRedirect)
    async def _redirect(_: Request, exc: PageRedirect) -> RedirectResponse:
        return exc.response

    @app.exception_handler(PageMissing)
    async def _missing(request: Request, exc: PageMissing) -> HTMLResponse:
        # A page's own record: always a page, whatever the client says it accepts.
        return await error_pages.error_page(
            request, 404, f"未找到{exc.what}：该记录不存在，或不属于当前账号"
        )

    error_pages.install(app)

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router, dependencies=[Depends(require_page_token)])
