"""The dependencies routes declare, as ``Annotated`` aliases (one import for every route)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import (
    BuyerUser,
    CurrentUser,
    FinanceUser,
    ReviewerUser,
    StaffUser,
)
from api.card_cipher import CardCipher
from api.services.proof_limits import UploadRate
from api.state import (
    get_card_cipher,
    get_session,
    get_settings,
    get_temporal,
    get_upload_rate,
)
from settings import Settings

SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
CardCipherDep = Annotated[CardCipher, Depends(get_card_cipher)]
UploadRateDep = Annotated[UploadRate, Depends(get_upload_rate)]

# At most what orders.placement_key holds, so two different keys never collide.
IDEMPOTENCY_KEY_MAX = 128
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        description="a retry with the same key returns the first answer and changes nothing",
    ),
]

__all__ = [
    "BuyerUser",
    "CardCipherDep",
    "CurrentUser",
    "FinanceUser",
    "IdempotencyKey",
    "ReviewerUser",
    "SessionDep",
    "SettingsDep",
    "StaffUser",
    "TemporalDep",
    "UploadRateDep",
]
