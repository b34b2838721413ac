"""The payload codec: encryption, key rotation, refusal of unknown keys."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from workflows.codec import EncryptionCodec, UnknownKeyError, new_key_text, parse_keys


def plain(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_encode_hides_the_data_and_decode_restores_it() -> None:
    codec = EncryptionCodec(parse_keys(new_key_text("k1")))
    [sealed] = await codec.encode([plain(b'{"card_no":"6222021234567891234"}')])
    assert b"6222021234567891234" not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"k1"
    [opened] = await codec.decode([sealed])
    assert opened == plain(b'{"card_no":"6222021234567891234"}')


async def test_rotated_codec_reads_old_payloads_and_writes_with_the_new_key() -> None:
    old = new_key_text("k1")
    [sealed_old] = await EncryptionCodec(parse_keys(old)).encode([plain(b"1")])
    rotated = EncryptionCodec(parse_keys(f"{new_key_text('k2')},{old}"))
    assert await rotated.decode([sealed_old]) == [plain(b"1")]
    [sealed_new] = await rotated.encode([plain(b"2")])
    assert sealed_new.metadata["encryption-key-id"] == b"k2"


async def test_decode_with_an_unknown_key_id_is_refused() -> None:
    [sealed] = await EncryptionCodec(parse_keys(new_key_text("k1"))).encode([plain(b"1")])
    with pytest.raises(UnknownKeyError):
        await EncryptionCodec(parse_keys(new_key_text("other"))).decode([sealed])


def test_parse_keys_refuses_a_short_key() -> None:
    with pytest.raises(ValueError):
        parse_keys("k1:c2hvcnQ=")
