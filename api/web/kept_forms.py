"""Post/redirect/get for a page form that was refused: the POST answers with a 303 to the
page the form is on, so a reload of what the browser then shows never posts again; what was
typed and each field's error ride to that page once, in a short-lived cookie.

That cookie is signed with the site's secret and bound to the sign-in (the session's form
token) and to the page it is for: nobody can make the site show words of theirs, nor carry
one person's kept form to another. It is compressed and kept small (a form's own fields
only). A bank card number never rides in it in clear: it is sealed with the card cipher,
bound to the buyer. ``render`` clears the cookie on the next page shown (shown once)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from fastapi import Request
from fastapi.responses import RedirectResponse

from api.card_cipher import CardCipher, SealedCard
from api.csrf import FORM_FIELD, page_token
from api.state import app_state
from api.web.plumbing import KEPT_FORM_COOKIE, local_path, redirect
from workflows.codec import UnknownKeyError

# As the outcome flash: long enough to follow the redirect, never met by a later page.
MAX_AGE_SECONDS = 60
# Browsers keep at most 4 KB a cookie, name and attributes included.
MAX_COOKIE_CHARS = 3800
# Where a sealed card number rides, bound to the buyer and to this use only.
SEALED_CARD_FIELD = "sealed_card_no"
CARD_REF = "kept-form"
# The refusal's sentence when not even its errors fit in the cookie.
CHECK_THE_FORM = "请检查填写的内容"


def _signature(request: Request, body: str) -> str:
    key = app_state(request).settings.jwt_secret.get_secret_value().encode()
    message = f"kept-form:{page_token(request)}:{body}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def refused(request: Request, page: str, **kept: Any) -> RedirectResponse:
    """A 303 to ``page`` (a path of this site) that hands it ``kept`` (JSON values: the
    form's values, its errors, which form it was) and, as flashes, ``ok=``/``err=`` text."""
    flashes = {k: kept.pop(k) for k in ("ok", "err") if k in kept}
    kept = {k: _without_token(v) for k, v in kept.items()}
    response = redirect(page, **flashes)
    target = urlsplit(local_path(page, "/")).path
    value = _signed(request, target, kept)
    if len(value) > MAX_COOKIE_CHARS:
        # Only a form typed far past its fields' limits gets here: its errors still show.
        value = _signed(request, target, _without_values(kept))
    if len(value) > MAX_COOKIE_CHARS:  # errors alone hardly get here: said above the page
        said = {k: v for k, v in flashes.items() if v} or {"err": CHECK_THE_FORM}
        return redirect(page, **said)
    response.set_cookie(
        KEPT_FORM_COOKIE,
        value,
        max_age=MAX_AGE_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=app_state(request).settings.environment == "production",
    )
    return response


def _signed(request: Request, page: str, kept: dict[str, Any]) -> str:
    payload = json.dumps({"page": page, "kept": kept}, ensure_ascii=False)
    body = base64.urlsafe_b64encode(zlib.compress(payload.encode(), 9)).decode()
    return f"{body}.{_signature(request, body)}"


def _without_token(value: Any) -> Any:
    """A form's text values without its CSRF token (the page shown writes its own) and
    without files (never kept: the page asks for them again)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != FORM_FIELD and not _is_file(v)}
    return value


def _is_file(value: Any) -> bool:
    return not isinstance(value, str | int | float | bool | list | dict | type(None))


# Where a kept form's typed values ride (top level, or inside a refused profile or action
# form); the rest (errors, which form it was) is short, written by the site.
VALUE_KEYS = frozenset({"form", "values", "new_profile"})


def _without_values(kept: dict[str, Any]) -> dict[str, Any]:
    """``kept`` without what was typed: the errors and which form they are for still show."""
    return {
        k: {name: v for name, v in value.items() if name not in VALUE_KEYS}
        if isinstance(value, dict) and "error" not in k
        else value
        for k, value in kept.items()
        if k not in VALUE_KEYS
    }


def kept_form(request: Request) -> dict[str, Any]:
    """What a refused form left for this page, or nothing (none, another page's, expired,
    altered, or another sign-in's)."""
    value = request.cookies.get(KEPT_FORM_COOKIE, "")
    body, _, signature = value.partition(".")
    # Compared as bytes: a cookie planted from elsewhere may hold any character.
    expected = _signature(request, body).encode()
    if not body or not hmac.compare_digest(signature.encode(), expected):
        return {}
    try:
        payload = json.loads(zlib.decompress(base64.urlsafe_b64decode(body.encode())))
    except (binascii.Error, zlib.error, ValueError):
        return {}
    if not isinstance(payload, dict) or payload.get("page") != request.url.path:
        return {}
    kept = payload.get("kept")
    return kept if isinstance(kept, dict) else {}


def sealed_card(cipher: CardCipher, owner: str, card_no: str) -> dict[str, str]:
    """The typed card number, sealed to ride in a kept form (nothing when none was typed)."""
    if not card_no:
        return {}
    sealed = cipher.seal(card_no, owner=owner, card_ref=CARD_REF)
    text = base64.urlsafe_b64encode(sealed.ciphertext).decode()
    return {SEALED_CARD_FIELD: f"{sealed.key_id}:{text}"}


def opened_card(cipher: CardCipher, owner: str, form: dict[str, Any]) -> str:
    """The card number a kept form sealed, or "" (none, or it does not open for this buyer)."""
    key_id, _, text = str(form.get(SEALED_CARD_FIELD, "")).partition(":")
    if not text:
        return ""
    try:
        sealed = SealedCard(key_id, base64.urlsafe_b64decode(text.encode()))
        return cipher.open(sealed, owner=owner, card_ref=CARD_REF)
    except (binascii.Error, InvalidTag, UnknownKeyError):  # a retired key: typed again
        return ""
