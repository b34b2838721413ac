"""Payload encryption bound to the order: personal data (bank details) never sits in clear in
history, and only payloads this system encrypted for a workflow reach that workflow.

AES-256-GCM over every payload. The key id travels in the payload metadata so keys can be
rotated: new payloads use the first key, old ones still decode with theirs. The workflow id
the payload belongs to (from Temporal's serialization context) is part of the associated
data, so a payload lifted from one order's history fails to decrypt in another's; it is also
written, in clear, in the metadata so the Temporal UI's codec endpoint, which is told no
workflow, can still show it to staff.

Decoding with a serialization context (the worker for its workflows and activities, the
client talking to one workflow) refuses, by answering a refusal payload in its place that
raises ``PayloadRefusedError`` where it is converted (workflows/converter.py says why and
what that does to an update, a start, an activity):
- a payload that is not encrypted (anyone reaching the Temporal frontend can send plain
  JSON, e.g. a command naming an admin as its actor);
- a payload encrypted for another workflow id, or whose associated data does not verify;
- an encrypted payload bound to no workflow (no workflow id in its metadata);
- anything at all when the context names no workflow (a standalone activity, a Nexus
  operation: nothing of ours runs as one).

Decoding without a context only serves reading (the codec endpoint for staff, client-side
reads): it checks each payload against the workflow id in its own metadata and passes
plain payloads through. Nothing decoded that way
reaches a workflow: the SDK gives the worker a context for every workflow and activity
task. Encoding always needs a workflow to bind to (``UnboundPayloadError`` otherwise).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from workflows.converter import PayloadRefusedError, refused_payload

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
WORKFLOW_ID = "encryption-workflow-id"
NONCE_BYTES = 12
# Versioned so a later change of what is bound cannot be confused with this one.
ASSOCIATED_DATA_PREFIX = b"shop-orders/payload/v2\0"

log = logging.getLogger(__name__)


class UnknownKeyError(PayloadRefusedError):
    """A payload names a key id this process was not given (see PAYLOAD_KEYS)."""


class UnboundPayloadError(ValueError):
    """Encoding was asked for with no workflow to bind the payload to."""


def parse_keys(text: str) -> dict[str, bytes]:
    """``"k2:BASE64,k1:BASE64"`` → {id: 32-byte key}, in the order given (first encrypts)."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, encoded = item.partition(":")
        key = base64.b64decode(encoded)
        if not key_id or len(key) != 32:
            raise ValueError(f"payload key {key_id!r} must be 'id:base64 of 32 bytes'")
        keys[key_id] = key
    return keys


def new_key_text(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def associated_data(key_id: str, workflow_id: str) -> bytes:
    return ASSOCIATED_DATA_PREFIX + key_id.encode() + b"\0" + workflow_id.encode()


def workflow_id_of(context: SerializationContext) -> str | None:
    """The workflow a payload belongs to: the workflow's own, or the one running the activity."""
    if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
        return context.workflow_id or None
    return None


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    def __init__(
        self,
        keys: dict[str, bytes],
        *,
        context: SerializationContext | None = None,
    ) -> None:
        if not keys:
            raise ValueError("the payload codec needs at least one key")
        self._raw_keys = dict(keys)
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active = next(iter(keys))
        # Kept over HKDF: stored fingerprints and open runs' update ids are keyed with this one.
        self._digest_key = hashlib.sha256(b"shop-orders/request-digest\0" + keys[self._active])
        # With a context the payloads feed (or come from) a workflow or an activity: strict.
        # Without one the codec only reads (the codec endpoint, client-side reads).
        self._strict = context is not None
        self._workflow_id = workflow_id_of(context) if context is not None else None

    def with_context(self, context: SerializationContext) -> Self:
        return type(self)(self._raw_keys, context=context)

    @property
    def workflow_id(self) -> str | None:
        """The workflow this codec encrypts for and accepts payloads of."""
        return self._workflow_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._workflow_id is None:
            raise UnboundPayloadError("a payload is encrypted only for a given workflow id")
        return [self._encrypt(p, self._workflow_id) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt_or_refuse(p) for p in payloads]

    def _decrypt_or_refuse(self, payload: Payload) -> Payload:
        try:
            return self._decrypt(payload)
        except PayloadRefusedError as refusal:
            if not self._strict:
                raise
            # Raising here would fail the whole workflow task (workflows/converter.py).
            log.warning("%s", refusal)
            return refused_payload(str(refusal))

    def _encrypt(self, payload: Payload, workflow_id: str) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._active].encrypt(
            nonce, payload.SerializeToString(), associated_data(self._active, workflow_id)
        )
        return Payload(
            metadata={
                "encoding": ENCODING,
                KEY_ID: self._active.encode(),
                WORKFLOW_ID: workflow_id.encode(),
            },
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if self._strict and self._workflow_id is None:
            # A standalone activity or a Nexus operation: nothing of ours runs as one.
            raise PayloadRefusedError("refused a payload outside any workflow")
        if payload.metadata.get("encoding") != ENCODING:
            if not self._strict:
                return payload  # reading only: show what is there
            raise PayloadRefusedError(
                f"refused a payload that is not encrypted (workflow {self._workflow_id})"
            )
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise UnknownKeyError(f"no payload key with id {key_id!r}")
        if WORKFLOW_ID not in payload.metadata:
            raise PayloadRefusedError(
                f"refused an encrypted payload bound to no workflow (workflow {self._workflow_id})"
            )
        bound_to = payload.metadata[WORKFLOW_ID].decode()
        if self._strict and bound_to != self._workflow_id:
            raise PayloadRefusedError(
                f"refused a payload encrypted for workflow {bound_to!r} "
                f"in workflow {self._workflow_id!r}"
            )
        return self._open(cipher, payload, associated_data(key_id, self._workflow_id or bound_to))

    def _open(self, cipher: AESGCM, payload: Payload, associated: bytes) -> Payload:
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, associated)
        except InvalidTag:
            raise PayloadRefusedError(
                "refused a payload that does not verify (altered, or made for another workflow)"
            ) from None
        return Payload.FromString(plain)

    @property
    def key_ids(self) -> Iterable[str]:
        return self._keys.keys()

    @property
    def digest_key(self) -> bytes:
        """A secret derived from the active key, for digests that sit in history in clear
        (the request fingerprints in update ids)."""
        return self._digest_key.digest()
