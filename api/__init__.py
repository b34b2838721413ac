"""The HTTP API (API.md) and the web pages: thin routes over keyword-only services."""
