"""Sending a command to an order's workflow, and reading its refusals as HTTP problems."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Problem, invalid_field
from db import queries
from domain import idempotency, lifecycle
from domain.commands import Command, InvoiceCommand
from domain.lifecycle import RefusalCode
from domain.order import OrderState
from workflows.codec import EncryptionCodec
from workflows.messages import StepAnswer, whole_order
from workflows.shop_order import REFUSED_PREFIX, update_name

# Past this a call answers 503; the change may still land, and a retry with the same
# Idempotency-Key then returns its outcome instead of applying it again.
UPDATE_RPC_TIMEOUT = timedelta(seconds=30)

DUPLICATE = "duplicate"
STATUS_FOR_REFUSAL = {
    RefusalCode.FORBIDDEN.value: 403,
    RefusalCode.NOT_FOUND.value: 404,
    RefusalCode.INVALID_TRANSITION.value: 409,
    RefusalCode.INVALID_INPUT.value: 422,
    DUPLICATE: 409,
    idempotency.CONFLICT: 422,
}


def refusal_code(error: WorkflowUpdateFailedError) -> str | None:
    """The RefusalCode (or "duplicate") of a workflow refusal; None for anything else."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and (cause.type or "").startswith(REFUSED_PREFIX):
        return (cause.type or "").removeprefix(REFUSED_PREFIX)
    return None


def refusal_problem(error: WorkflowUpdateFailedError, command: Command) -> Problem:
    """The problem a refused update is: the workflow's own sentence, at its status."""
    code = refusal_code(error)
    message = error.cause.message if isinstance(error.cause, ApplicationError) else ""
    if code is None:
        label = lifecycle.label_of(command.action)
        return Problem(500, f"订单未能{label}: {message}")
    status = STATUS_FOR_REFUSAL.get(code, 409)
    if code == idempotency.CONFLICT:
        return key_reused(message)
    if status == 422:
        return invalid_field(lifecycle.step_for(command.action).input_field, message)
    return Problem(status, message, code=code)


def key_reused(message: str) -> Problem:
    """422: the Idempotency-Key came before with a different request."""
    return invalid_field(idempotency.HEADER, message)


def digest_key(client: Client) -> bytes:
    """The secret request fingerprints are keyed with: derived from the payload key."""
    codec = client.data_converter.payload_codec
    return codec.digest_key if isinstance(codec, EncryptionCodec) else b""


def update_id(command: Command, idempotency_key: str | None, secret: bytes) -> str | None:
    """A retried request with the same key is the same update, which Temporal applies once;
    the same key with another request is another update, which the workflow refuses."""
    if not idempotency_key:
        return None
    request = {"action": command.action.value} | command.model_dump(mode="json", exclude={"actor"})
    return idempotency.update_id(command.actor.username, idempotency_key, request, secret)


def closed_problem(state: OrderState, command: Command) -> Problem:
    """The run has ended (voided, or everything finished after the deadline)."""
    invoice_no = command.invoice_app_no if isinstance(command, InvoiceCommand) else None
    refused = lifecycle.refusal(state, command.action, command.actor, invoice_no)
    if refused is not None:
        return Problem(STATUS_FOR_REFUSAL.get(refused.code.value, 409), refused.message)
    return Problem(409, f"订单 {state.order_no} 已结束，不能再有任何变更")


async def earlier_outcome(
    client: Client, handle: WorkflowHandle[Any, Any], update_id: str
) -> StepAnswer | None:
    """What an update with this id answered, read from the history of a run that has ended
    since (Temporal answers a repeated update id itself only while the run is open).

    Raises the 422 of a reused key when the key changed the order with another request."""
    key = idempotency.split_update_id(update_id)
    async for event in handle.fetch_history_events():
        if not event.HasField("workflow_execution_update_completed_event_attributes"):
            continue
        completed = event.workflow_execution_update_completed_event_attributes
        if not completed.outcome.HasField("success"):
            continue
        if completed.meta.update_id == update_id:
            payloads = completed.outcome.success.payloads
            [answer] = await client.data_converter.decode(payloads, [StepAnswer])
            return cast(StepAnswer, answer)
        earlier = idempotency.split_update_id(completed.meta.update_id)
        if key is not None and earlier is not None and earlier[0] == key[0]:
            raise key_reused(idempotency.conflict_message(key[0]))
    return None


async def send(
    *,
    session: AsyncSession,
    client: Client,
    state: OrderState,
    command: Command,
    idempotency_key: str | None,
) -> OrderState:
    """Apply ``command`` to the order whose projection is ``state``; answers the new state.

    ``state`` must already be checked as visible to the command's actor.
    """
    # Give the connection back while the workflow works: it can take a while, and an open
    # SQLite read would keep showing the data as it was before the change.
    await session.close()
    handle = client.get_workflow_handle(state.order_no)
    repeatable_id = update_id(command, idempotency_key, digest_key(client))
    try:
        answer: StepAnswer = await handle.execute_update(
            update_name(command),
            command,
            id=repeatable_id,
            result_type=StepAnswer,
            rpc_timeout=UPDATE_RPC_TIMEOUT,
        )
    except WorkflowUpdateFailedError as error:
        raise refusal_problem(error, command) from None
    except RPCError as error:
        # The projection knows the order, so a run Temporal cannot find has ended: the dev
        # server says "workflow execution already completed", the time-skipping server
        # "update not found", and a run past retention is gone altogether.
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        earlier = await _outcome_if_recorded(client, handle, repeatable_id)
        if earlier is None:
            raise closed_problem(state, command) from None
        answer = earlier
    return await _whole(session, answer, state)


async def _whole(session: AsyncSession, answer: StepAnswer, read: OrderState) -> OrderState:
    """The order the answer stands for: its earlier 操作记录 from the order as read before
    sending, or, when that copy is behind (another change landed in between), from the
    projection, which the workflow wrote before answering."""
    whole = whole_order(answer, read.events)
    if whole is None:
        projected = await queries.order(session, order_no=answer.order_no)
        whole = whole_order(answer, projected.events if projected is not None else [])
    if whole is None:  # the projection always has the record the answer continues
        raise RuntimeError(f"order {answer.order_no}: the answer continues no record we have")
    return whole


async def _outcome_if_recorded(
    client: Client, handle: WorkflowHandle[Any, Any], repeatable_id: str | None
) -> StepAnswer | None:
    if repeatable_id is None:
        return None
    try:
        return await earlier_outcome(client, handle, repeatable_id)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:  # gone with its history (retention)
            return None
        raise
