"""账户信息: the caller's own account (GET/PUT /api/me). Signing in and the password
change live in ``api.auth``."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import CurrentUser, SessionDep
from api.services import account
from domain.account import AccountInput

router = APIRouter(prefix="/api", tags=["identity"])


@router.get("/me", response_model=schemas.MeOut, summary="Read my account · 账户信息")
async def me(actor: CurrentUser, session: SessionDep) -> schemas.MeOut:
    """Signed in: username, role, company, contact details and the number of unread messages."""
    return await account.me(session=session, actor=actor)


@router.put("/me", response_model=schemas.MeOut, summary="Update my account · 修改账户信息")
async def update_me(body: AccountInput, actor: CurrentUser, session: SessionDep) -> schemas.MeOut:
    """Signed in. Contact name, mobile and e-mail; fields left out keep their value; the
    company is never changed here."""
    return await account.update(session=session, actor=actor, data=body)
