"""The reliability suite: faults (real processes), bad input, access, idempotency.

Every test here is marked ``reliability`` and runs by default. Each one documents what it
tried and what held through the ``report`` fixture; after a run of the whole package the
results are written to docs/reliability.md.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Generator
from pathlib import Path

import pytest

from tests.reliability.report import Report, Section, environment

HERE = Path(__file__).resolve().parent
REPORT_KEY = pytest.StashKey[Report]()
SEEN_KEY = pytest.StashKey[set[Path]]()
DESELECTED_KEY = pytest.StashKey[bool]()


def _ours(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_configure(config: pytest.Config) -> None:
    config.stash[REPORT_KEY] = Report()
    config.stash[SEEN_KEY] = set()
    config.stash[DESELECTED_KEY] = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _ours(item):
            item.add_marker(pytest.mark.reliability)
            config.stash[SEEN_KEY].add(Path(str(item.path)).resolve())


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        if _ours(item):
            item.config.stash[DESELECTED_KEY] = True


def _title_and_claim(item: pytest.Item) -> tuple[str, str]:
    function = getattr(item, "function", None)
    doc = inspect.getdoc(function) if function is not None else None
    if not doc:
        return item.name, ""
    title, _, claim = doc.partition("\n")
    return title.strip().rstrip("."), " ".join(claim.split())


def _section_of(item: pytest.Item) -> Section:
    title, claim = _title_and_claim(item)
    return item.config.stash[REPORT_KEY].section(item.nodeid, title, claim)


@pytest.fixture
def report(request: pytest.FixtureRequest, database_url: str) -> Section:
    """This test's section of docs/reliability.md."""
    found = request.config.stash[REPORT_KEY]
    if not found.environment:
        found.environment = environment(database_url)
    return _section_of(request.node)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    outcome = yield
    result: pytest.TestReport = outcome
    if not _ours(item):
        return result
    section = _section_of(item)
    if result.when == "call" or (result.when == "setup" and not result.passed):
        section.outcome = result.outcome
        section.duration = result.duration
        if result.skipped and isinstance(result.longrepr, tuple):
            section.reason = str(result.longrepr[2]).removeprefix("Skipped: ")
        elif result.failed and result.when == "setup":
            section.reason = "its setup failed"
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    found = config.stash[REPORT_KEY]
    partial = os.environ.get("RELIABILITY_REPORT")  # a partial run's report, for a look
    if partial and found.sections:
        Path(partial).write_text(found.render(), encoding="utf-8")
    modules = set(HERE.glob("test_*.py"))
    complete = modules and modules <= config.stash[SEEN_KEY] and not config.stash[DESELECTED_KEY]
    ran = [s for s in found.sections.values() if s.outcome != "not run"]
    if not complete or not ran or session.shouldstop or session.shouldfail:
        return
    found.write()
