"""Evolution: the replay of recorded histories (tests/workflows/test_history_replay.py, run by
`make test` in CI) catches a non-deterministic change, and a change guarded by
workflow.patched (README, "Changing the workflow safely") passes it."""

from __future__ import annotations

from pathlib import Path

from temporalio.worker import Replayer

from tests.reliability.drifted import PatchedChange, UnguardedChange
from tests.reliability.report import Section
from tests.support.keys import TEST_SETTINGS
from tests.workflows.harness import recorded_history
from workflows.client import data_converter
from workflows.shop_order import ShopOrderWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").rglob("*.json"))
CONVERTER = data_converter(TEST_SETTINGS)


async def _replay(workflow_class: type, path: Path) -> Exception | None:
    history = recorded_history(path)
    replayer = Replayer(workflows=[workflow_class], data_converter=CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


async def test_replay_catches_an_unguarded_change_and_passes_a_patched_one(
    report: Section,
) -> None:
    """Replaying the recorded histories guards every change to the workflow

    Every history under tests/histories replays against today's ShopOrderWorkflow; the same
    histories fail against a copy changed without workflow.patched (so the CI replay test
    would fail on such a change), and replay against the change guarded by workflow.patched.
    """
    today = {path.stem: await _replay(ShopOrderWorkflow, path) for path in HISTORIES}
    unguarded = {path.stem: await _replay(UnguardedChange, path) for path in HISTORIES}
    patched = {path.stem: await _replay(PatchedChange, path) for path in HISTORIES}

    report.try_(
        f"the {len(HISTORIES)} recorded histories ({', '.join(sorted(today))}) replayed against "
        "today's workflow, against a copy with an unguarded extra timer before the order is "
        "recorded, and against the same change behind workflow.patched"
    )
    report.count("histories", len(HISTORIES))
    report.count("replayed cleanly today", sum(f is None for f in today.values()))
    report.count(
        "failed against the unguarded change", sum(f is not None for f in unguarded.values())
    )
    report.count(
        "replayed cleanly against the patched change", sum(f is None for f in patched.values())
    )
    assert len(HISTORIES) >= 4
    assert all(failure is None for failure in today.values()), today
    report.hold("every recorded history replays against today's workflow")
    assert all(failure is not None for failure in unguarded.values())
    assert all("nondetermin" in str(f).lower() for f in unguarded.values()), unguarded
    report.hold(
        "every one fails with a non-determinism error against the unguarded change: the "
        "replay test in `make test` (tests/workflows/test_history_replay.py) stops such a change in CI"
    )
    assert all(failure is None for failure in patched.values()), patched
    report.hold(
        "every one replays against the change behind workflow.patched, the way the README's "
        "'Changing the workflow safely' prescribes (then `make histories` re-records)"
    )
