"""Refunds (退款): the buyer's application with its proof, and commands aimed at a refund."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api import command_builders
from api.card_cipher import CardCipher
from api.errors import Problem, invalid_field, not_found
from api.schemas import RefundForm
from api.services import bank_cards, commands, orders, proof_limits, proofs
from db import queries
from domain.commands import Command
from domain.order import Actor, BankCardRef, OrderState, ProofRef
from domain.statuses import RefundType
from settings import Settings

PROOF_NEEDED = (
    "an individual (个人) refund needs the refund proof document stamped by the company "
    "(PDF, JPEG or PNG)"
)
CARD_NEEDED = "请填写银行卡号"


async def visible(*, session: AsyncSession, actor: Actor, refund_id: str) -> OrderState:
    """The order of the refund, when the actor may see it; 404 otherwise."""
    state = await queries.order_of_refund(
        session, refund_id=refund_id, buyer=orders.buyer_scope(actor)
    )
    if state is None or state.refund is None:
        raise not_found("退款申请", refund_id)
    return state


async def list_page(
    *, session: AsyncSession, actor: Actor, filters: queries.RefundFilter, page: queries.Page
) -> queries.Found[OrderState]:
    scoped = dataclasses.replace(filters, buyer=orders.buyer_scope(actor))
    return await queries.refunds_page(session, filters=scoped, page=page)


async def act(
    *,
    session: AsyncSession,
    client: Client,
    refund_id: str,
    command: Command,
    idempotency_key: str | None,
    accept_within: timedelta,
) -> OrderState:
    state = await visible(session=session, actor=command.actor, refund_id=refund_id)
    return await commands.send(
        session=session,
        client=client,
        state=state,
        command=command,
        idempotency_key=idempotency_key,
        accept_within=accept_within,
    )


async def submit(
    *,
    session: AsyncSession,
    client: Client,
    settings: Settings,
    cipher: CardCipher,
    uploads: proof_limits.UploadRate,
    actor: Actor,
    order_no: str,
    form: RefundForm,
    correction: bool,
    idempotency_key: str | None,
) -> OrderState:
    """File (ApplyRefund) or, as a ``correction``, correct (EditRefund) the refund
    application of an order. The card number goes to the card vault; the command carries
    its reference. A new proof is held until the workflow answers: kept when the refund is
    accepted, deleted when it is refused."""
    state = await orders.visible(session=session, actor=actor, order_no=order_no)
    # A correction may keep the proof and the card already on file.
    kept = state.refund.proof if correction and state.refund else None
    proof: ProofRef | None = None
    held: Path | None = None
    if proofs.is_given(form.proof):
        assert form.proof is not None
        uploads.take(actor.username, settings.proof_uploads_per_hour)
        checked = await proofs.read(form.proof, max_bytes=settings.proof_max_bytes)
        await proof_limits.check_quota(session, settings, actor.username, checked.ref.size)
        held = await proofs.hold(checked, directory=settings.proof_dir, buyer=actor.username)
        proof = checked.ref
    elif form.refund_type is RefundType.INDIVIDUAL and kept is None:
        raise invalid_field("proof", PROOF_NEEDED)
    card = await _card(
        session=session, cipher=cipher, state=state, form=form, correction=correction
    )
    build = command_builders.edit_refund if correction else command_builders.apply_refund
    try:
        accepted = await commands.send(
            session=session,
            client=client,
            state=state,
            command=build(actor, form, card, proof),
            idempotency_key=idempotency_key,
            accept_within=settings.update_accept_timeout,
        )
    except Problem as problem:
        # A 5xx may hide a change that landed (a timeout): the sweep decides those later.
        if held is not None and problem.status < 500:
            proofs.discard(held)
        raise
    if held is not None:
        proofs.keep(held, directory=settings.proof_dir)
    return accepted


async def _card(
    *,
    session: AsyncSession,
    cipher: CardCipher,
    state: OrderState,
    form: RefundForm,
    correction: bool,
) -> BankCardRef:
    """The card the command names: the number given, once kept in the vault; else, for a
    correction, the card on file."""
    if form.card_no is not None:
        return await bank_cards.keep(
            session=session, cipher=cipher, owner=state.buyer, card_no=form.card_no
        )
    kept = state.refund.card if correction and state.refund else None
    if kept is None:
        raise invalid_field("card_no", CARD_NEEDED)
    return kept


async def proof_file(
    *, session: AsyncSession, settings: Settings, actor: Actor, refund_id: str
) -> tuple[Path, ProofRef]:
    """The stored proof of a refund, for its buyer and for staff."""
    state = await visible(session=session, actor=actor, refund_id=refund_id)
    proof = state.refund.proof if state.refund else None
    if proof is None:
        raise not_found("退款证明")
    return proofs.path_of(proof, directory=settings.proof_dir), proof
