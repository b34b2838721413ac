"""The codec endpoint the Temporal UI uses: staff read decrypted payloads, nobody else;
nobody has payloads encrypted through it."""

from __future__ import annotations

import base64
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import WorkflowSerializationContext

from tests.support.http_api import Api
from workflows.codec import WORKFLOW_ID, EncryptionCodec, parse_keys

PLAIN = {
    "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
    "data": base64.b64encode(b'{"card_no":"6222021234567891234"}').decode(),
}


def as_proto_json(payload: Payload) -> dict[str, Any]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def test_codec_decodes_what_the_worker_encrypted_for_an_order(api: Api) -> None:
    context = WorkflowSerializationContext(namespace="default", workflow_id="BS-ZX1")
    codec = EncryptionCodec(parse_keys(api.settings.payload_keys.get_secret_value())).with_context(
        context
    )
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"42")])
    body = {"payloads": [as_proto_json(sealed)]}
    decoded = await api.http.post("/codec/decode", json=body, headers=await api.login("finance"))
    assert base64.b64decode(decoded.json()["payloads"][0]["data"]) == b"42"


async def test_codec_decode_refuses_a_payload_relabelled_for_another_order(api: Api) -> None:
    context = WorkflowSerializationContext(namespace="default", workflow_id="BS-ZXA")
    codec = EncryptionCodec(parse_keys(api.settings.payload_keys.get_secret_value())).with_context(
        context
    )
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"42")])
    sealed.metadata[WORKFLOW_ID] = b"BS-ZXB"
    body = {"payloads": [as_proto_json(sealed)]}
    decoded = await api.http.post("/codec/decode", json=body, headers=await api.login("bmp"))
    assert decoded.status_code == 422
    assert "does not verify" in decoded.json()["detail"]


async def test_codec_shows_plain_payloads_as_they_are(api: Api) -> None:
    decoded = await api.http.post(
        "/codec/decode", json={"payloads": [PLAIN]}, headers=await api.login("bmp")
    )
    assert decoded.json() == {"payloads": [PLAIN]}


async def test_codec_has_no_encode_even_for_staff(api: Api) -> None:
    encoded = await api.http.post(
        "/codec/encode", json={"payloads": [PLAIN]}, headers=await api.login("bmp")
    )
    assert encoded.status_code == 404


async def test_codec_refuses_buyers_and_anonymous_callers(api: Api) -> None:
    assert (await api.http.post("/codec/decode", json={"payloads": []})).status_code == 401
    buyer = await api.http.post(
        "/codec/decode", json={"payloads": []}, headers=await api.login("leiliang")
    )
    assert buyer.status_code == 403


async def test_codec_preflight_allows_the_temporal_ui_origin(api: Api) -> None:
    origin = api.settings.temporal_ui_origins[0]
    response = await api.http.options(
        "/codec/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
