"""The payload key of every test run. Fixed, so the recorded histories under
tests/histories replay."""

from __future__ import annotations

from settings import Settings

TEST_PAYLOAD_KEYS = "test1:dGVzdC1wYXlsb2FkLWtleS0zMi1ieXRlcy1sb25nISE="
TEST_SETTINGS = Settings(environment="development", payload_keys=TEST_PAYLOAD_KEYS)
