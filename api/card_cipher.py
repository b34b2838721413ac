"""Bank card numbers at rest: AES-256-GCM under keys derived from the payload keys.

Each purpose gets its own sub-key (HKDF-SHA256), so the secret that encrypts history
payloads never encrypts card numbers too. The key id is stored beside each card, so a card
sealed before a key rotation still opens with the key it names.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from workflows.codec import UnknownKeyError

AT_REST_INFO = b"bank-card-at-rest"
REFERENCE_INFO = b"bank-card-reference"
NONCE_BYTES = 12
REFERENCE_CHARS = 32


def derive(key: bytes, info: bytes) -> bytes:
    """A 32-byte sub-key of ``key`` for one purpose, named by ``info``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


@dataclass(frozen=True)
class SealedCard:
    key_id: str
    ciphertext: bytes


class CardCipher:
    """Seals and opens card numbers; ``payload_keys`` in order, the first seals new cards."""

    def __init__(self, payload_keys: dict[str, bytes]) -> None:
        if not payload_keys:
            raise ValueError("the card cipher needs at least one key")
        self._ciphers = {
            key_id: AESGCM(derive(key, AT_REST_INFO)) for key_id, key in payload_keys.items()
        }
        self._active = next(iter(payload_keys))
        self._reference_key = derive(payload_keys[self._active], REFERENCE_INFO)

    def reference(self, card_no: str, *, owner: str) -> str:
        """The card's id in the vault: a keyed digest, so nobody without the key can guess
        it or test a number against it, and the same for the same buyer and number, so a
        retried request builds the same command."""
        message = f"{owner}\0{card_no}".encode()
        digest = hmac.new(self._reference_key, message, hashlib.sha256).hexdigest()
        return digest[:REFERENCE_CHARS]

    def seal(self, card_no: str, *, owner: str, card_ref: str) -> SealedCard:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._active].encrypt(
            nonce, card_no.encode(), _bound_to(owner, card_ref)
        )
        return SealedCard(key_id=self._active, ciphertext=nonce + sealed)

    def open(self, sealed: SealedCard, *, owner: str, card_ref: str) -> str:
        """The card number; raises if the row was altered or moved to another owner or ref."""
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise UnknownKeyError(f"no payload key with id {sealed.key_id!r}")
        nonce, body = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        return cipher.decrypt(nonce, body, _bound_to(owner, card_ref)).decode()


def _bound_to(owner: str, card_ref: str) -> bytes:
    # Authenticated with the row's owner and reference: a ciphertext copied into another
    # row does not open.
    return f"{owner}\0{card_ref}".encode()
