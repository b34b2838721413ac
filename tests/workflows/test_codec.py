"""The payload codec: encryption bound to the workflow id, refusals (a refused payload raises
where it is converted), key rotation, reading for the Temporal UI without a workflow context."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    WorkflowSerializationContext,
)

from workflows.codec import (
    ENCODING,
    KEY_ID,
    WORKFLOW_ID,
    EncryptionCodec,
    PayloadRefusedError,
    UnboundPayloadError,
    UnknownKeyError,
    new_key_text,
    parse_keys,
)
from workflows.converter import REFUSED_ENCODING, ShopPayloadConverter

KEYS = parse_keys(new_key_text("k1"))
CARD = b'{"card_no":"6222021234567891234"}'


def converter(codec: EncryptionCodec) -> DataConverter:
    return DataConverter(payload_converter_class=ShopPayloadConverter, payload_codec=codec)


async def assert_refused(codec: EncryptionCodec, payload: Payload, reason: str) -> None:
    """The codec answers a refusal in the payload's place; converting it raises."""
    [answered] = await codec.decode([payload])
    assert answered.metadata["encoding"] == REFUSED_ENCODING.encode()
    with pytest.raises(PayloadRefusedError, match=reason):
        converter(codec).payload_converter.from_payloads([answered], [dict])


def plain(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def for_workflow(codec: EncryptionCodec, workflow_id: str) -> EncryptionCodec:
    return codec.with_context(
        WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)
    )


def for_activity_of(codec: EncryptionCodec, workflow_id: str | None) -> EncryptionCodec:
    context = ActivitySerializationContext(
        namespace="default",
        activity_id="1",
        activity_type="save_change",
        activity_task_queue="orders",
        workflow_id=workflow_id,
        workflow_type="ShopOrderWorkflow" if workflow_id else None,
        is_local=False,
    )
    return codec.with_context(context)


def sealed_before_binding(key_id: str, key: bytes, payload: Payload) -> Payload:
    """A payload as the codec wrote it before the binding: no associated data, no workflow id."""
    nonce = os.urandom(12)
    data = nonce + AESGCM(key).encrypt(nonce, payload.SerializeToString(), None)
    return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=data)


async def test_encode_hides_the_data_and_decode_in_the_same_workflow_restores_it() -> None:
    codec = for_workflow(EncryptionCodec(KEYS), "BS-ZX1")
    [sealed] = await codec.encode([plain(CARD)])
    assert b"6222021234567891234" not in sealed.SerializeToString()
    assert sealed.metadata[KEY_ID] == b"k1"
    assert sealed.metadata[WORKFLOW_ID] == b"BS-ZX1"
    assert await codec.decode([sealed]) == [plain(CARD)]


async def test_decode_of_a_plain_payload_in_a_workflow_is_refused() -> None:
    codec = for_workflow(EncryptionCodec(KEYS), "BS-ZX1")
    await assert_refused(codec, plain(b'{"actor":{"username":"admin"}}'), "not encrypted")


async def test_decode_of_a_plain_payload_in_an_activity_is_refused() -> None:
    await assert_refused(
        for_activity_of(EncryptionCodec(KEYS), "BS-ZX1"), plain(b"1"), "not encrypted"
    )


async def test_decode_of_a_payload_of_another_workflow_is_refused() -> None:
    codec = EncryptionCodec(KEYS)
    [sealed_for_a] = await for_workflow(codec, "BS-ZXA").encode([plain(b"1")])
    await assert_refused(
        for_workflow(codec, "BS-ZXB"), sealed_for_a, "encrypted for workflow 'BS-ZXA'"
    )


async def test_decode_of_a_payload_relabelled_for_another_workflow_is_refused() -> None:
    codec = EncryptionCodec(KEYS)
    [sealed_for_a] = await for_workflow(codec, "BS-ZXA").encode([plain(b"1")])
    sealed_for_a.metadata[WORKFLOW_ID] = b"BS-ZXB"
    await assert_refused(for_workflow(codec, "BS-ZXB"), sealed_for_a, "does not verify")


async def test_activity_of_the_workflow_reads_what_the_workflow_encrypted() -> None:
    codec = EncryptionCodec(KEYS)
    [sealed] = await for_workflow(codec, "BS-ZX1").encode([plain(b"1")])
    assert await for_activity_of(codec, "BS-ZX1").decode([sealed]) == [plain(b"1")]


async def test_decode_in_an_activity_outside_any_workflow_is_refused() -> None:
    codec = EncryptionCodec(KEYS)
    [sealed] = await for_workflow(codec, "BS-ZX1").encode([plain(b"1")])
    await assert_refused(for_activity_of(codec, None), sealed, "outside any workflow")


async def test_encode_without_a_workflow_is_refused() -> None:
    with pytest.raises(UnboundPayloadError):
        await EncryptionCodec(KEYS).encode([plain(b"1")])


async def test_rotated_codec_reads_old_payloads_and_writes_with_the_new_key() -> None:
    old = new_key_text("k1")
    [sealed_old] = await for_workflow(EncryptionCodec(parse_keys(old)), "BS-ZX1").encode(
        [plain(b"1")]
    )
    rotated = for_workflow(EncryptionCodec(parse_keys(f"{new_key_text('k2')},{old}")), "BS-ZX1")
    assert await rotated.decode([sealed_old]) == [plain(b"1")]
    [sealed_new] = await rotated.encode([plain(b"2")])
    assert sealed_new.metadata[KEY_ID] == b"k2"
    assert await rotated.decode([sealed_new]) == [plain(b"2")]


async def test_decode_with_an_unknown_key_id_is_refused() -> None:
    [sealed] = await for_workflow(EncryptionCodec(KEYS), "BS-ZX1").encode([plain(b"1")])
    other = for_workflow(EncryptionCodec(parse_keys(new_key_text("other"))), "BS-ZX1")
    await assert_refused(other, sealed, "no payload key with id 'k1'")
    with pytest.raises(UnknownKeyError):
        await EncryptionCodec(parse_keys(new_key_text("other"))).decode([sealed])


async def test_decode_of_a_payload_bound_to_no_workflow_is_refused() -> None:
    legacy = sealed_before_binding("k1", KEYS["k1"], plain(b"1"))
    await assert_refused(
        for_workflow(EncryptionCodec(KEYS), "BS-ZX1"), legacy, "bound to no workflow"
    )


async def test_reading_without_context_uses_the_workflow_id_in_the_metadata() -> None:
    codec = EncryptionCodec(KEYS)
    [sealed] = await for_workflow(codec, "BS-ZX1").encode([plain(CARD)])
    assert await codec.decode([sealed, plain(b"3")]) == [plain(CARD), plain(b"3")]


async def test_reading_without_context_refuses_a_relabelled_payload() -> None:
    codec = EncryptionCodec(KEYS)
    [sealed] = await for_workflow(codec, "BS-ZXA").encode([plain(b"1")])
    sealed.metadata[WORKFLOW_ID] = b"BS-ZXB"
    with pytest.raises(PayloadRefusedError, match="does not verify"):
        await codec.decode([sealed])


def test_parse_keys_refuses_a_short_key() -> None:
    with pytest.raises(ValueError):
        parse_keys("k1:c2hvcnQ=")


async def test_a_bound_payload_round_trips_through_the_data_converter() -> None:
    bound = converter(EncryptionCodec(KEYS)).with_context(
        WorkflowSerializationContext(namespace="default", workflow_id="BS-ZX1")
    )
    assert await bound.decode(await bound.encode([{"card_no": "6222"}]), [dict]) == [
        {"card_no": "6222"}
    ]
