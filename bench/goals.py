"""What the bench measures the full stack against: the engine's own ceiling."""

from __future__ import annotations

THROUGHPUT_GOAL = 0.80  # a lifecycle within 80 % of the engine's ceiling
LATENCY_GOAL = 1.25  # each API transition within 1.25x the bare update round trip
