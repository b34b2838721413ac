"""The codec endpoint the Temporal UI uses: staff read decrypted payloads, nobody else."""

from __future__ import annotations

import base64

from tests.support.http_api import Api
from workflows.codec import EncryptionCodec, parse_keys

PLAIN = {
    "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
    "data": base64.b64encode(b'{"card_no":"6222021234567891234"}').decode(),
}


async def test_codec_encode_then_decode_round_trips_for_staff(api: Api) -> None:
    headers = await api.login("bmp")
    encoded = await api.http.post("/codec/encode", json={"payloads": [PLAIN]}, headers=headers)
    assert encoded.status_code == 200
    sealed = encoded.json()["payloads"][0]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"6222021234567891234" not in base64.b64decode(sealed["data"])
    decoded = await api.http.post("/codec/decode", json={"payloads": [sealed]}, headers=headers)
    assert decoded.json() == {"payloads": [PLAIN]}


async def test_codec_decodes_what_the_worker_encrypted(api: Api) -> None:
    codec = EncryptionCodec(parse_keys(api.settings.payload_keys))
    from temporalio.api.common.v1 import Payload

    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"42")])
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                "data": base64.b64encode(sealed.data).decode(),
            }
        ]
    }
    decoded = await api.http.post("/codec/decode", json=body, headers=await api.login("finance"))
    assert base64.b64decode(decoded.json()["payloads"][0]["data"]) == b"42"


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
