"""Limits on what a request may carry, enforced before any route runs.

- Bodies are bounded before they are read: a declared Content-Length over the limit is
  answered 413 at once, and a body that streams past it (chunked) is cut off at the limit.
  Without this, a multipart upload is spooled to disk in full before any route sees it, and
  a JSON body is read into memory whole, whatever their size.
- A NUL character in the path, the query or a URL-encoded form is refused (422): PostgreSQL
  cannot hold one, so it would otherwise end as a database error (500) on the first query.
  JSON and multipart fields are refused by their types (domain.inputs).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Problem, invalid_field

# JSON and form bodies of this API are a few kilobytes.
DEFAULT_MAX_BYTES = 1024 * 1024
# Room for the form fields and part headers around an uploaded file.
MULTIPART_OVERHEAD_BYTES = 256 * 1024
# The Temporal UI sends whole payloads of a history to the codec endpoint.
CODEC_MAX_BYTES = 8 * 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` while a route reads the body; FastAPI lets HTTPException
    through, and the problem handlers answer it as 413 problem+json."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"请求内容超过 {limit} 字节的上限，未作处理")


class BodyLimit:
    """Pure ASGI middleware, so nothing buffers the body before the check. Kept over FastAPI's
    own ``max_body_size``: its 413 is text/plain, past problem+json and the security headers."""

    def __init__(self, app: ASGIApp, *, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        path: str = scope.get("path", "")
        if path.startswith("/codec/"):
            return CODEC_MAX_BYTES
        content_type = _header(scope, b"content-type") or ""
        if content_type.startswith("multipart/form-data"):
            return self.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
        return DEFAULT_MAX_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False  # the server refuses a malformed length itself
            if too_large:
                # The connection is closed after the answer, so the rest is never read.
                response = BodyTooLarge(limit)
                await Problem(
                    413, str(response.detail), headers={"Connection": "close"}
                ).response()(scope, receive, send)
                return
        received = 0
        started = False

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, tracked)
        except BodyTooLarge as refused:
            # Raised where no route's handler catches it (a middleware reading the body).
            if started:
                raise
            await Problem(413, str(refused.detail), headers={"Connection": "close"}).response()(
                scope, receive, send
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


NUL_MESSAGE = "不能包含空字符（NUL）"
FORM = "application/x-www-form-urlencoded"


class RefuseNul:
    """422 for a NUL (``%00``) in the path, the query string or a URL-encoded form body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("raw_path") or scope.get("path", "").encode()
        where = None
        if b"\x00" in unquote_to_bytes(path) or "\x00" in scope.get("path", ""):
            where = "path"
        elif b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            where = "query"
        if where is not None:
            await invalid_field(where, NUL_MESSAGE).response()(scope, receive, send)
            return
        if not (_header(scope, b"content-type") or "").startswith(FORM):
            await self.app(scope, receive, send)
            return
        # A form is small (BodyLimit bounds it): read it, look, and hand it on unchanged.
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if b"\x00" in unquote_to_bytes(bytes(body).replace(b"+", b" ")):
            await invalid_field("body", NUL_MESSAGE).response()(scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
