"""The card vault (claim check): a refund's bank card number is kept here, encrypted, and
commands, the run and the projection carry only its reference and masked form.

The API writes it, before the command that names the card is sent, so a reference in a
run always has its card. Only finance (and admins) read a number back, to pay it out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.card_cipher import CardCipher, SealedCard
from db import models
from db.upsert import insert_for
from domain.order import Actor, BankCardRef, OrderState
from domain.statuses import FINANCE_STAFF
from domain.validation import mask_card

log = logging.getLogger(__name__)


async def keep(
    *, session: AsyncSession, cipher: CardCipher, owner: str, card_no: str
) -> BankCardRef:
    """Store ``card_no`` for ``owner`` (once: the same buyer and number is the same row) and
    answer what a command may carry of it."""
    card_ref = cipher.reference(card_no, owner=owner)
    sealed = cipher.seal(card_no, owner=owner, card_ref=card_ref)
    masked = mask_card(card_no)
    await session.execute(
        insert_for(session, models.BankCard.__table__)  # type: ignore[arg-type]
        .values(
            card_ref=card_ref,
            owner=owner,
            key_id=sealed.key_id,
            ciphertext=sealed.ciphertext,
            masked=masked,
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["card_ref"])
    )
    # Committed before the command is sent: the run must never name a card that is not kept.
    await session.commit()
    return BankCardRef(card_ref=card_ref, card_no_masked=masked)


async def full_numbers(
    *, session: AsyncSession, cipher: CardCipher, reader: Actor, orders: Iterable[OrderState]
) -> dict[str, str]:
    """refund id → the full card number, for finance paying those refunds out. Buyers and
    reviewers only ever see the masked form."""
    if reader.role not in FINANCE_STAFF:
        raise PermissionError(f"{reader.username} ({reader.role}) may not read card numbers")
    wanted = {
        state.refund.refund_id: (state.refund.card.card_ref, state.buyer)
        for state in orders
        if state.refund is not None and state.refund.card is not None
    }
    if not wanted:
        return {}
    refs = {card_ref for card_ref, _ in wanted.values()}
    rows = await session.scalars(select(models.BankCard).where(models.BankCard.card_ref.in_(refs)))
    kept = {row.card_ref: SealedCard(key_id=row.key_id, ciphertext=row.ciphertext) for row in rows}
    # Opened as the order's buyer's: the row's ciphertext is bound to its owner, so a card
    # opens only for that buyer's orders.
    numbers = {
        refund_id: cipher.open(kept[card_ref], owner=buyer, card_ref=card_ref)
        for refund_id, (card_ref, buyer) in wanted.items()
        if card_ref in kept
    }
    # Who read which cards, for the audit; the numbers themselves never reach a log.
    log.info("card numbers shown to %s: refunds %s", reader.username, ", ".join(sorted(numbers)))
    return numbers
