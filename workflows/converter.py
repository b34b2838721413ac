"""How a payload the codec refused reaches the code that wanted it: as a conversion error.

The codec (workflows/codec.py) does not raise when it refuses a payload a workflow or an
activity was sent: an error raised while the worker decodes a workflow activation fails the
whole workflow task, and with an update in it the run stays stuck — every later task,
query and update of that order fails until someone resets it (tried on the dev server).
The codec answers a refusal payload instead, and this converter raises on it where the
payload is converted to its type:
- an update's arguments: before the validator, so the update is rejected, the sender gets
  ``WorkflowUpdateFailedError`` and the run is unchanged;
- a query's arguments: the query fails; a signal's: the SDK drops the signal;
- a workflow's start arguments, an activity result: the workflow task fails and is retried
  (never an ``ApplicationError``, which would end the run: a forged activity completion
  must not be able to fail an order);
- an activity's arguments: that attempt fails.
"""

from __future__ import annotations

from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import EncodingPayloadConverter

REFUSED_ENCODING = "binary/refused"


class PayloadRefusedError(ValueError):
    """A payload this workflow must not read: plain, or encrypted for another workflow."""


def refused_payload(reason: str) -> Payload:
    return Payload(metadata={"encoding": REFUSED_ENCODING.encode()}, data=reason.encode())


class RefusedPayloadConverter(EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return REFUSED_ENCODING

    def to_payload(self, value: Any) -> Payload | None:
        return None  # made only by the codec, never from a value

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        raise PayloadRefusedError(payload.data.decode(errors="replace"))


class ShopPayloadConverter(PydanticPayloadConverter):
    """Pydantic JSON, plus the refusal the codec answers for a payload it will not open."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), RefusedPayloadConverter())
