"""Forged and lifted Temporal payloads.

Threat: anyone reaching Temporal's frontend sends an update as plain JSON naming an admin as
its actor, or replays an encrypted payload taken from one order into another.

Control: the worker accepts only payloads encrypted for the workflow id they are sent to
(AES-GCM with the workflow id in the authenticated data); anything else is refused before
the validator and the order stays as it was. Proved with the `temporal` CLI against the dev
server.

Forged and lifted payloads sent straight to Temporal's frontend with the `temporal` CLI
(bypassing the API) are refused by the worker, and the order is left as it was.

The real stack (dev server, worker, API) as in tests/test_e2e.py; the CLI is the one the
run command uses, pointed at the test's dev server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.processes import executable
from tests.support.http_api import Api, ok
from workflows.codec import KEY_ID, WORKFLOW_ID

pytestmark = pytest.mark.e2e

FORGED_ADMIN = {"username": "intruder", "role": "admin", "company": ""}


@dataclass
class CliResult:
    exit_code: int
    output: str


async def temporal_cli(api: Api, *args: str) -> CliResult:
    process = await asyncio.create_subprocess_exec(
        executable("temporal"),
        *args,
        "--address",
        api.settings.effective_temporal_address,
        "--namespace",
        api.settings.temporal_namespace,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return CliResult(process.returncode, output.decode())


async def order_as_seen(api: Api, order_no: str) -> tuple[str, int]:
    """(status, version) of the order, read back through the API by its reviewer."""
    order = await ok(api.http.get(f"/api/orders/{order_no}", headers=await api.login("bmp")))
    return order["status"], order["version"]


async def approve_through_the_api(api: Api, order_no: str) -> dict[str, Any]:
    return await ok(
        api.http.post(
            f"/api/admin/orders/{order_no}/approve",
            json={"platform_amount_fen": 200_000},
            headers=await api.login("bmp"),
        )
    )


async def update_input_in_history(api: Api, order_no: str, update_name: str) -> dict[str, Any]:
    """The payload (proto-JSON, as the CLI shows it) an update of ``order_no`` was sent with."""
    shown = await temporal_cli(api, "workflow", "show", "-w", order_no, "--output", "json")
    assert shown.exit_code == 0, shown.output
    for event in json.loads(shown.output)["events"]:
        accepted = event.get("workflowExecutionUpdateAcceptedEventAttributes")
        if accepted and accepted["acceptedRequest"]["input"]["name"] == update_name:
            [payload] = accepted["acceptedRequest"]["input"]["args"]["payloads"]
            return dict(payload)
    raise AssertionError(f"no accepted {update_name} update in {order_no}'s history")


async def history_event_types(api: Api, workflow_id: str) -> list[str]:
    shown = await temporal_cli(api, "workflow", "show", "-w", workflow_id, "--output", "json")
    assert shown.exit_code == 0, shown.output
    return [event["eventType"] for event in json.loads(shown.output)["events"]]


async def test_plain_update_forging_an_admin_is_refused_and_the_order_unchanged(e2e: Api) -> None:
    order = await e2e.place(await e2e.login("leiliang"))
    no = order["order_no"]
    before = await order_as_seen(e2e, no)
    forged = json.dumps({"actor": FORGED_ADMIN, "platform_amount_fen": 1, "note": "forged"})

    sent = await temporal_cli(
        e2e, "workflow", "update", "execute", "-w", no, "--name", "approve", "--input", forged
    )

    assert sent.exit_code != 0, sent.output
    assert "refused a payload that is not encrypted" in sent.output
    assert await order_as_seen(e2e, no) == before == ("submitted", before[1])
    # The run is not stuck: the reviewer's approval through the API still goes through.
    approved = await approve_through_the_api(e2e, no)
    assert (approved["status"], approved["version"]) == ("approved", before[1] + 1)


@pytest.mark.parametrize(
    ("relabelled", "refusal"),
    [(False, "encrypted for workflow"), (True, "does not verify")],
    ids=["as lifted", "relabelled for the other order"],
)
async def test_encrypted_update_of_one_order_sent_to_another_is_refused(
    e2e: Api, relabelled: bool, refusal: str
) -> None:
    buyer = await e2e.login("leiliang")
    order_a, order_b = (await e2e.place(buyer))["order_no"], (await e2e.place(buyer))["order_no"]
    await approve_through_the_api(e2e, order_a)
    lifted = await update_input_in_history(e2e, order_a, "approve")
    metadata = {
        name: base64.b64decode(value).decode() for name, value in lifted["metadata"].items()
    }
    assert metadata[WORKFLOW_ID] == order_a
    if relabelled:
        metadata[WORKFLOW_ID] = order_b
    before = await order_as_seen(e2e, order_b)

    sent = await temporal_cli(
        e2e,
        "workflow",
        "update",
        "execute",
        "-w",
        order_b,
        "--name",
        "approve",
        "--input-base64",
        "--input",
        lifted["data"],
        *[
            arg
            for name in ("encoding", KEY_ID, WORKFLOW_ID)
            for arg in ("--input-meta", f"{name}={metadata[name]}")
        ],
    )

    assert sent.exit_code != 0, sent.output
    assert refusal in sent.output
    assert await order_as_seen(e2e, order_b) == before == ("submitted", before[1])
    approved = await approve_through_the_api(e2e, order_b)
    assert (approved["status"], approved["version"]) == ("approved", before[1] + 1)


async def test_plain_start_of_an_order_never_runs(e2e: Api) -> None:
    forged_no = f"BS-ZX2099{random.randrange(10**14):014d}"
    started = await temporal_cli(
        e2e,
        "workflow",
        "start",
        "--type",
        "ShopOrderWorkflow",
        "--task-queue",
        e2e.settings.temporal_task_queue,
        "-w",
        forged_no,
        "--input",
        json.dumps({"order_no": forged_no, "buyer": FORGED_ADMIN}),
    )
    assert started.exit_code == 0, started.output
    try:
        events: list[str] = []
        for _ in range(100):
            events = await history_event_types(e2e, forged_no)
            if "EVENT_TYPE_WORKFLOW_TASK_FAILED" in events:
                break
            await asyncio.sleep(0.1)
        # The first workflow task fails on the refused input and is retried; nothing is done.
        assert events[:4] == [
            "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
            "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
            "EVENT_TYPE_WORKFLOW_TASK_STARTED",
            "EVENT_TYPE_WORKFLOW_TASK_FAILED",
        ]
        assert "EVENT_TYPE_WORKFLOW_TASK_COMPLETED" not in events
        shown = await temporal_cli(e2e, "workflow", "show", "-w", forged_no, "--output", "json")
        assert "refused a payload that is not encrypted" in shown.output
        missing = await e2e.http.get(f"/api/orders/{forged_no}", headers=await e2e.login("bmp"))
        assert missing.status_code == 404
    finally:
        await temporal_cli(e2e, "workflow", "terminate", "-w", forged_no, "--reason", "test")
