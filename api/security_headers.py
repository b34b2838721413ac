"""Security headers on every answer of the API and the web pages (ASGI middleware)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script anywhere: the pages' JavaScript is /static/app.js.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # A few inputs are sized by style attributes; an attribute cannot run script.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Swagger UI (development only) starts from an inline script and loads its assets from this
# site (api/docs.py). Nothing else has that freedom.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
# Two years, the preload lists' minimum; only sent in production, which is served over HTTPS.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
# Stylesheet and script only; everything else may carry someone's orders or bank details.
CACHEABLE_PREFIX = "/static/"


class SecurityHeaders:
    """Adds the headers to every HTTP response, whichever route or error produced it."""

    def __init__(self, app: ASGIApp, *, https_only: bool, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.https_only = https_only
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.add_headers(MutableHeaders(scope=message), path)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def add_headers(self, headers: MutableHeaders, path: str) -> None:
        docs = path in self.docs_paths
        headers["Content-Security-Policy"] = (
            DOCS_CONTENT_SECURITY_POLICY if docs else CONTENT_SECURITY_POLICY
        )
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if self.https_only:
            headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        if not path.startswith(CACHEABLE_PREFIX):
            headers["Cache-Control"] = "no-store"
