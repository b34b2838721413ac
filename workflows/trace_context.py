"""An update's trace, carried to the e-mails it queues.

The run loop sends an update's e-mails after the update has answered, outside its handler:
without this the send would join the trace of the run's start instead of the request's.
Only the current trace context is read and re-attached, which changes no command, so it is
safe on replay and does nothing when the process does not trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context, propagate


def current() -> dict[str, str]:
    """The current trace context as W3C headers; empty when nothing is traced."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def resumed(carrier: dict[str, str] | None) -> Iterator[None]:
    """Run the block in the trace context ``current`` returned earlier (if any)."""
    if not carrier:
        yield
        return
    token = context.attach(propagate.extract(carrier))
    evicted = False
    try:
        yield
    except GeneratorExit:
        # The run is being evicted from the worker's cache and its context with it: the
        # token cannot be detached from the context that closes it (OpenTelemetry logs an
        # error for nothing).
        evicted = True
        raise
    finally:
        if not evicted:
            context.detach(token)
