"""Idempotency keys: a retried request is the same change, a reused key with another body is
refused.

A key is remembered per caller and order. The update id a command travels under is the key's
scope (caller + key) and a fingerprint of the request, so Temporal answers an exact retry with
the first outcome, while the same key with another body arrives as a different update that the
workflow refuses because it remembers the scope with another fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

# Between the scope and the fingerprint; neither a username nor the hex digest contains it.
SEPARATOR = "#"
FINGERPRINT_CHARS = 32
CONFLICT = "idempotency_conflict"
HEADER = "Idempotency-Key"


def fingerprint(request: Mapping[str, Any], secret: bytes) -> str:
    """A keyed digest of the request as the server understood it (canonical JSON). Keyed,
    because update ids sit in history in clear and a plain hash of a request holding a bank
    card number could be guessed back."""
    canonical = json.dumps(
        request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    digest = hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_CHARS]


def scope(username: str, key: str) -> str:
    return f"{username}:{key}"


def update_id(username: str, key: str, request: Mapping[str, Any], secret: bytes) -> str:
    return f"{scope(username, key)}{SEPARATOR}{fingerprint(request, secret)}"


def split_update_id(update_id: str) -> tuple[str, str] | None:
    """(scope, fingerprint) of an id made by ``update_id``; None for any other id."""
    head, separator, tail = update_id.rpartition(SEPARATOR)
    if not separator or not head or len(tail) != FINGERPRINT_CHARS:
        return None
    if any(c not in "0123456789abcdef" for c in tail):
        return None
    return head, tail


def conflict_message(key_scope: str) -> str:
    key = key_scope.partition(":")[2]
    return (
        f"{HEADER} {key} 已用于另一个不同的请求；重试须与第一次请求完全相同，新的请求须使用新的 key"
    )
