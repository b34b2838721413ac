"""Starting an order's run: the one way the API (and the bench, placing orders in bulk) does
it, so every run is findable and described in the Temporal UI from its first moment."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from domain.money import format_fen
from domain.order import OrderState
from workflows.messages import StartOrder
from workflows.search_attributes import typed_for
from workflows.shop_order import ShopOrderWorkflow


async def start_order(
    client: Client, task_queue: str, state: OrderState
) -> WorkflowHandle[Any, Any]:
    """Start the run of a new order (workflow id = its number; a number is never reused)."""
    return await client.start_workflow(
        ShopOrderWorkflow.run,
        StartOrder(order=state),
        id=state.order_no,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=typed_for(state),
        static_summary=f"{state.order_no} · {state.shop_name} · {state.product.name}",
        static_details=(
            f"**买家** {state.buyer_company}({state.buyer})\n\n"
            f"**服务市场订单号** {state.service_market_order_no}\n\n"
            f"**金额小计** {format_fen(state.subtotal_fen)}"
        ),
    )
