"""Sending one built command as the caller's request, answered in the shape API.md gives."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api import responses, schemas
from api.deps import (
    CardCipherDep,
    IdempotencyKey,
    SessionDep,
    SettingsDep,
    TemporalDep,
    UploadRateDep,
)
from api.schemas import RefundForm
from api.services import invoices, orders, refunds
from domain.commands import Command, InvoiceCommand
from domain.inputs import SupplementaryPatch
from domain.order import Actor


class CommandSender:
    """A route's dependency: the session, the Temporal client, the settings, the card cipher
    and the request's Idempotency-Key, so each route only builds its command and names its
    target."""

    def __init__(
        self,
        session: SessionDep,
        client: TemporalDep,
        settings: SettingsDep,
        cipher: CardCipherDep,
        uploads: UploadRateDep,
        idempotency_key: IdempotencyKey = None,
    ) -> None:
        self.session = session
        self.client = client
        self.settings = settings
        self.cipher = cipher
        self.uploads = uploads
        self.idempotency_key = idempotency_key

    async def to_order(self, order_no: str, command: Command) -> schemas.OrderOut:
        state = await orders.act(
            session=self.session,
            client=self.client,
            order_no=order_no,
            command=command,
            idempotency_key=self.idempotency_key,
            accept_within=self.settings.update_accept_timeout,
        )
        return responses.order_out(state, command.actor)

    async def order_edit(
        self, order_no: str, actor: Actor, patch: SupplementaryPatch
    ) -> schemas.OrderOut:
        """修改信息: the service builds the command once it has the chosen profile's snapshot."""
        state = await orders.edit(
            session=self.session,
            client=self.client,
            actor=actor,
            order_no=order_no,
            patch=patch,
            idempotency_key=self.idempotency_key,
            accept_within=self.settings.update_accept_timeout,
        )
        return responses.order_out(state, actor)

    async def refund_application(
        self, order_no: str, actor: Actor, form: RefundForm, *, correction: bool
    ) -> schemas.RefundOut:
        """File (or, as a ``correction``, correct) the refund; the service builds the command
        once the proof is stored."""
        state = await refunds.submit(
            session=self.session,
            client=self.client,
            settings=self.settings,
            cipher=self.cipher,
            uploads=self.uploads,
            actor=actor,
            order_no=order_no,
            form=form,
            correction=correction,
            idempotency_key=self.idempotency_key,
        )
        return responses.refund_out(state, actor)

    async def to_refund(self, refund_id: str, command: Command) -> schemas.RefundOut:
        state = await refunds.act(
            session=self.session,
            client=self.client,
            refund_id=refund_id,
            command=command,
            idempotency_key=self.idempotency_key,
            accept_within=self.settings.update_accept_timeout,
        )
        return responses.refund_out(state, command.actor)

    async def to_invoice(self, command: InvoiceCommand) -> schemas.InvoiceOut:
        state, invoice = await invoices.act(
            session=self.session,
            client=self.client,
            command=command,
            idempotency_key=self.idempotency_key,
            accept_within=self.settings.update_accept_timeout,
        )
        return responses.invoice_out(state, invoice, command.actor)


Sender = Annotated[CommandSender, Depends()]
