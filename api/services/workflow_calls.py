"""Sending commands to an order's workflow and turning its refusals into HTTP problems."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Problem, is_unavailable
from domain.commands import Command
from domain.lifecycle import RefusalCode
from domain.order import OrderState
from workflows.shop_order import REFUSED_PREFIX, UPDATE_FOR_COMMAND, ShopOrderWorkflow

STATUS_FOR_REFUSAL = {
    RefusalCode.FORBIDDEN: 403,
    RefusalCode.NOT_FOUND: 404,
    RefusalCode.INVALID_TRANSITION: 409,
    RefusalCode.INVALID_INPUT: 422,
    "duplicate": 409,
}


def problem_from_update_failure(error: WorkflowUpdateFailedError) -> Problem:
    cause = error.cause
    if isinstance(cause, ApplicationError) and (cause.type or "").startswith(REFUSED_PREFIX):
        code = (cause.type or "").removeprefix(REFUSED_PREFIX)
        status = STATUS_FOR_REFUSAL.get(code, 409)
        return Problem(status, cause.message, code=code if status != 409 else "invalid_transition")
    return Problem(409, f"the order refused the change: {cause}")


def update_id(command: Command, idempotency_key: str | None) -> str | None:
    """A retried request with the same key is the same update, applied once by Temporal."""
    if not idempotency_key:
        return None
    return f"{command.action}:{command.actor.username}:{idempotency_key.strip()[:200]}"


async def send(
    client: Client, order_no: str, command: Command, *, idempotency_key: str | None = None
) -> OrderState:
    handle = client.get_workflow_handle_for(ShopOrderWorkflow.run, order_no)
    update = UPDATE_FOR_COMMAND[type(command)]
    try:
        result: OrderState = await handle.execute_update(
            update,  # type: ignore[arg-type]
            command,
            id=update_id(command, idempotency_key),
        )
        return result
    except WorkflowUpdateFailedError as error:
        raise problem_from_update_failure(error) from None
    except RPCError as error:
        if is_unavailable(error):
            raise
        if error.status is RPCStatusCode.NOT_FOUND and "update" not in error.message.lower():
            raise Problem(404, f"order {order_no} not found") from None
        # The run has finished (dev server: "already completed"; test server: "update not found").
        raise Problem(
            409, f"order {order_no} is closed; its lifecycle has ended and it accepts no more changes"
        ) from None
