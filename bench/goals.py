"""What the bench measures the full stack against: the engine's own (honest) ceiling, the
bare update round trip, and absolute bounds for the lists and the open orders' memory."""

from __future__ import annotations

THROUGHPUT_GOAL = 0.80  # JD lifecycles/s at least 0.8x the honest ceiling's
CPU_GOAL = 1.25  # stack CPU per lifecycle at most 1.25x the ceiling's
LATENCY_GOAL = 1.25  # each API transition's p50 within 1.25x the bare update round trip
P99_GOAL = 3.0  # ... and its p99 within 3x the bare update's p99
LIST_P99_MS = 50.0  # buyer and back-office list p99 at 100,000 orders
LIST_ORDERS_FOR_GOAL = 100_000
OPEN_ORDERS_FOR_GOAL = 10_000
OPEN_RSS_MB = 512.0  # one worker holding 10,000 open orders
