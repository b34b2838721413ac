"""Sending a command to an order's workflow, and reading its refusals as HTTP problems."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
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

DUPLICATE = "duplicate"
# 503: the order's workflow did not accept the change in time (no worker is taking its tasks).
NOT_ACCEPTED = "not_accepted"
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


class NotAccepted(Problem):
    """The 503 of ``not_accepted``: nothing took the workflow's tasks in time, so a next
    change would wait as long (unlike ``not_ready``, one run's recovery)."""


def not_accepted(within: timedelta, *, keyed: bool) -> Problem:
    """503 for a change the workflow has not accepted within ``within``. It may still apply
    later: with an Idempotency-Key a retry is the same update and applies it once; without
    one, the person looks at the order before trying again."""
    waited = f"{within.total_seconds():g}"
    seconds = max(1, math.ceil(within.total_seconds()))
    then = (
        "用同一个请求（同一个 Idempotency-Key）重试是安全的，无论这次是否已生效，都只会执行一次"
        if keyed
        else "请稍后刷新页面查看订单状态，再决定是否重新操作"
    )
    return NotAccepted(
        503,
        f"订单处理服务在 {waited} 秒内未受理这次操作，订单暂未改变；这次操作可能稍后生效。{then}",
        code=NOT_ACCEPTED,
        headers={"Retry-After": str(seconds)},
    )


async def run_update(
    handle: WorkflowHandle[Any, Any],
    update: str,
    *args: Any,
    update_id: str | None,
    result_type: type,
    accept_within: timedelta,
    keyed: bool,
) -> Any:
    """Send an update and answer its result; 503 ``not_accepted`` when the workflow has not
    accepted it within ``accept_within`` (``keyed``: a retry of the same request is the same
    update, so the 503 may say so). Once accepted, the change is in the run's history
    and its result follows as soon as the handler has saved it."""
    try:
        # The SDK's own stage wait, not asyncio.wait_for: its timeout means "not accepted", so
        # a 503 never cuts short a change the workflow is already making.
        accepted = await handle.start_update(
            update,
            args=args,
            id=update_id,
            result_type=result_type,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            rpc_timeout=accept_within,
        )
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise not_accepted(accept_within, keyed=keyed) from None
    except RPCError as error:
        if not workflow_not_ready(error):
            raise
        raise not_ready(keyed=keyed) from None
    return await accepted.result()


def workflow_not_ready(error: RPCError) -> bool:
    """Temporal refuses updates while the run's workflow task is failing or being retried,
    e.g. for the seconds after a worker was killed mid-task: the update was not admitted."""
    return any(
        detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in error.grpc_status.details
    )


def not_ready(*, keyed: bool) -> Problem:
    """503 for an update Temporal refused because the order's run is recovering; unlike
    ``not_accepted`` nothing was admitted, so nothing can apply later."""
    then = "用同一个请求（同一个 Idempotency-Key）重试是安全的" if keyed else "请稍后重试"
    return Problem(
        503,
        f"订单正在恢复处理，暂未受理这次操作，订单未改变；{then}",
        code=NOT_ACCEPTED,
        headers={"Retry-After": "1"},
    )


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
    accept_within: timedelta,
) -> OrderState:
    """Apply ``command`` to the order whose projection is ``state``; answers the new state,
    or 503 when the workflow has not accepted it within ``accept_within``.

    ``state`` must already be checked as visible to the command's actor.
    """
    # Give the connection back while the workflow works: it can take a while, and an open
    # SQLite read would keep showing the data as it was before the change.
    await session.close()
    handle = client.get_workflow_handle(state.order_no)
    repeatable_id = update_id(command, idempotency_key, digest_key(client))
    try:
        answer: StepAnswer = await run_update(
            handle,
            update_name(command),
            command,
            update_id=repeatable_id,
            result_type=StepAnswer,
            accept_within=accept_within,
            keyed=repeatable_id is not None,
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
