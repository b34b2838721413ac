"""Signed access tokens (JWT, HS256) carrying who the caller is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from domain.order import Actor
from domain.statuses import Role
from settings import Settings

ALGORITHM = "HS256"


def issue_token(settings: Settings, *, username: str, role: Role, company: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": username,
        "role": role.value,
        "company": company,
        "iat": now,
        "exp": now + timedelta(minutes=settings.jwt_ttl_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def read_token(settings: Settings, token: str) -> Actor | None:
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        return Actor(username=claims["sub"], role=Role(claims["role"]), company=claims.get("company", ""))
    except (jwt.PyJWTError, KeyError, ValueError):
        return None
