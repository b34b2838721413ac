"""The remote codec the Temporal UI calls to show encrypted payloads to staff.

Protocol: POST {endpoint}/decode with {"payloads": [Payload as proto-JSON]}. Buyers and
anonymous callers are refused: bank details are for the back office only.

Decoding is for reading: the UI names no workflow, so each payload is checked against the
workflow id in its own metadata (workflows/codec.py). There is no /encode: a payload
encrypted for the UI could be sent to a workflow as a command naming any actor, and orders
change only through the API, which binds each payload to its order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.deps import StaffUser
from api.errors import Problem
from workflows.codec import EncryptionCodec, PayloadRefusedError

router = APIRouter(prefix="/codec", tags=["operations"])


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.ParseDict(await request.json(), Payloads())
    except (ValueError, json_format.ParseError) as error:
        raise Problem(422, f"expected {{'payloads': [...]}} in proto-JSON: {error}") from None


def _codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec = request.app.state.codec
    return codec


@router.post("/decode", summary="Decode Temporal payloads · 解密工作流数据")
async def decode(request: Request, _: StaffUser) -> dict[str, Any]:
    """Staff (reviewer, finance or admin), for the Temporal UI's remote codec: `{"payloads":
    [...]}` in proto-JSON, each checked against the workflow it names. There is no /encode."""
    try:
        decoded = await _codec(request).decode(list((await _payloads(request)).payloads))
    except PayloadRefusedError as error:
        raise Problem(422, str(error)) from None
    return json_format.MessageToDict(Payloads(payloads=decoded))
