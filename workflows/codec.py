"""Payload encryption: personal data (bank details) never sits in clear in history.

AES-256-GCM over every payload; the key id travels in the payload metadata so keys can
be rotated: new payloads use the first key, old ones still decode with theirs.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
NONCE_BYTES = 12


class UnknownKeyError(ValueError):
    """A payload names a key id this process was not given (see PAYLOAD_KEYS)."""


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


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise ValueError("the payload codec needs at least one key")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active = next(iter(keys))
        self._digest_key = hashlib.sha256(b"shop-orders/request-digest\0" + keys[self._active])

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._active].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self._active.encode()},
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on, or by another codec
        key_id = payload.metadata["encryption-key-id"].decode()
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise UnknownKeyError(f"no payload key with id {key_id!r}")
        plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        return Payload.FromString(plain)

    @property
    def key_ids(self) -> Iterable[str]:
        return self._keys.keys()

    @property
    def digest_key(self) -> bytes:
        """A secret derived from the active key, for digests that sit in history in clear
        (the request fingerprints in update ids)."""
        return self._digest_key.digest()
