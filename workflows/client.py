"""How every process reaches Temporal: one data converter, one connection recipe.

Used by the worker, the API and the tests; it is not workflow code (it does I/O
when called) but it belongs with the workflows whose payloads it shapes.
"""

from __future__ import annotations

import dataclasses

from opentelemetry import trace
from temporalio.client import Client, TLSConfig
from temporalio.contrib.opentelemetry import OpenTelemetryPlugin, ReplaySafeTracerProvider
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.plugin import SimplePlugin
from temporalio.runtime import Runtime

from settings import Settings
from workflows.codec import EncryptionCodec, new_key_text, parse_keys
from workflows.converter import ShopPayloadConverter

DEV_KEY_FILE = "payload.keys"


def payload_keys(settings: Settings) -> dict[str, bytes]:
    """PAYLOAD_KEYS when set; in development a key generated once under DATA_DIR."""
    configured = settings.payload_keys.get_secret_value()
    if configured:
        return parse_keys(configured)
    if not settings.is_development:
        raise RuntimeError("PAYLOAD_KEYS must be set when ENVIRONMENT=production")
    key_file = settings.data_dir / DEV_KEY_FILE
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(new_key_text("dev1"))
        key_file.chmod(0o600)
    return parse_keys(key_file.read_text())


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted and bound to their workflow: the same converter in the
    worker, the API and tests."""
    codec = EncryptionCodec(payload_keys(settings))
    return dataclasses.replace(
        pydantic_data_converter, payload_converter_class=ShopPayloadConverter, payload_codec=codec
    )


def tracing_plugins() -> list[SimplePlugin]:
    """Temporal's OpenTelemetry plugin when this process traces (``ops.tracing`` set the
    replay-safe provider, the only one the plugin accepts), else none.

    The plugin, not the older TracingInterceptor: it makes a workflow update's handler a
    child of the caller's update span (the interceptor only links it, under the span that
    started the run), so a request and everything its update does are one trace. On the
    client, it reaches every worker built on that client too."""
    if isinstance(trace.get_tracer_provider(), ReplaySafeTracerProvider):
        return [OpenTelemetryPlugin(add_temporal_spans=True)]
    return []


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    tls: TLSConfig | bool = False
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    elif settings.temporal_api_key:
        tls = True
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        api_key=api_key.get_secret_value() if api_key else None,
        tls=tls,
        data_converter=data_converter(settings),
        runtime=runtime,
        plugins=tracing_plugins(),
    )
