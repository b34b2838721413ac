"""Variants: the real worker or API with one change each, to measure a fix before anyone
makes it (the bench may not change the code it measures).

Worker variants: `python -m bench.variants NAME` runs worker.py's main with the change
applied; names combine with '+'.

- ``sandboxed``: workflows run in the sandbox (worker.SANDBOXED, as the lifecycle tests
  run them) instead of without it: what its checks on every activation cost.
- ``asyncio``: the worker's event loop is asyncio's own instead of uvloop's (worker.py).
- ``long-counters``: a placement numbers and writes the order in one transaction, as it
  did before, holding the two counter rows' locks until the whole order is written.

API variants (named ``api-…``) start uvicorn with other options:

- ``api-plain``: asyncio's event loop and the pure-Python HTTP parser (h11), whatever
  else is installed;
- ``api-uvloop``: uvloop and httptools (what uvicorn[standard] brings).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

import worker
from activities import contracts
from activities.persistence import ALLOCATION_ATTEMPTS, PersistenceActivities, numbers_request
from devstack.processes import api_command
from settings import Settings

API_PREFIX = "api-"


def _sandboxed() -> None:
    worker.WORKFLOW_RUNNER = worker.SANDBOXED


def _asyncio() -> None:
    worker.LOOP_FACTORY = asyncio.new_event_loop


@activity.defn(name=contracts.RECORD_PLACEMENT)
async def _record_placement_in_one_transaction(  # type: ignore[no-untyped-def]
    self, new: contracts.NewOrder
) -> contracts.Placement:
    """PersistenceActivities.record_placement as it was: numbers and order together.
    (``self`` unannotated: Temporal leaves such a first parameter out of the arguments.)"""
    state = new.state
    request = numbers_request(state, new.invoice_count)
    for _attempt in range(ALLOCATION_ATTEMPTS):
        try:
            async with self.transaction(state) as session:
                numbers = await self.allocate(session, request)
                numbered = state.model_copy(
                    update={
                        "serial_no": numbers.serial_no,
                        "reserved_invoice_nos": list(numbers.invoice_app_nos),
                    }
                )
                written = await self.insert_order(session, numbered)
        except IntegrityError:
            continue
        return contracts.Placement(numbers=numbers, written=written)
    raise ApplicationError(f"could not record new order {state.order_no}")


def _long_counters() -> None:
    PersistenceActivities.record_placement = _record_placement_in_one_transaction  # type: ignore[method-assign,assignment]


VARIANTS: dict[str, Callable[[], None]] = {
    "sandboxed": _sandboxed,
    "asyncio": _asyncio,
    "long-counters": _long_counters,
}
API_VARIANTS: dict[str, list[str]] = {
    "api-plain": ["--loop", "asyncio", "--http", "h11"],
    "api-uvloop": ["--loop", "uvloop", "--http", "httptools"],
}


def is_api(name: str) -> bool:
    return name.startswith(API_PREFIX)


def command(name: str, settings: Settings | None = None) -> list[str]:
    if is_api(name):
        if name not in API_VARIANTS or settings is None:
            raise SystemExit(f"unknown API variant {name!r}; known: {', '.join(API_VARIANTS)}")
        return [*api_command(settings), *API_VARIANTS[name]]
    for part in name.split("+"):
        if part not in VARIANTS:
            raise SystemExit(f"unknown worker variant {part!r}; known: {', '.join(VARIANTS)}")
    return [sys.executable, "-m", "bench.variants", name]


if __name__ == "__main__":
    for part in sys.argv[1].split("+"):
        VARIANTS[part]()
    worker.run()
