"""Recorded histories of every path replay against today's ShopOrderWorkflow.

A change that would break a running order (non-determinism) fails here. Re-record with
``make histories`` after a deliberate, patched change (see README).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.worker import Replayer

from tests.support.keys import TEST_SETTINGS
from tests.workflows.harness import recorded_history
from workflows.client import data_converter
from workflows.shop_order import ShopOrderWorkflow

HISTORY_ROOT = Path(__file__).resolve().parents[1] / "histories"
HISTORIES = sorted(HISTORY_ROOT.rglob("*.json"))
# Today's runs (tests/histories). A patch that must keep older open runs replaying adds a
# folder of their histories here until every such run has moved (README, "Changing the
# workflow").
GENERATIONS = [HISTORY_ROOT, HISTORY_ROOT / "before-work-queue-time-limits"]
MAIN_PATHS = {"jd_guide_example", "void", "deadline_no_decision", "refund_only_no_refund"}


@pytest.mark.parametrize("generation", GENERATIONS, ids=lambda p: p.name)
def test_histories_cover_the_main_paths_of_every_generation(generation: Path) -> None:
    assert {path.stem for path in generation.glob("*.json")} >= MAIN_PATHS


@pytest.mark.parametrize(
    "path", HISTORIES, ids=[str(p.relative_to(HISTORY_ROOT)) for p in HISTORIES]
)
async def test_recorded_history_replays_deterministically(path: Path) -> None:
    history = recorded_history(path)
    replayer = Replayer(workflows=[ShopOrderWorkflow], data_converter=data_converter(TEST_SETTINGS))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
