"""End to end through the real proxy: a server that always fails on `bad*` symbols.

With --backoff-base 0.2 --max-retries 3 each failing (symbol, operation) reaches the server
exactly 4 times, never sooner than the schedule allows (0.2, 0.4, 0.8 s apart: lower bounds
only), and ends with an `error` placeholder; the others get edges; the run exits 0.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
from enrich_helpers import Enrich, make_enrich, summary


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    return make_enrich(tmp_path)


FAST = ("--backoff-base", "0.2", "--max-retries", "3", "--interval", "0.1")
PREPARE = "textDocument/prepareCallHierarchy"
LOCATE = ("textDocument/references", "textDocument/implementation", PREPARE)
# Server-side receipt times can only be later than the proxy's decisions, so the one slack
# needed is timestamp rounding.
SLACK = 0.02


@pytest.fixture(scope="module")
def ran(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Enrich, subprocess.CompletedProcess[str]]:
    """One run shared by the tests that only read its results (each run costs seconds)."""
    enrich = make_enrich(tmp_path_factory.mktemp("schedule"))
    return enrich, enrich.run(*FAST)


def test_failing_symbols_follow_the_schedule_and_end_as_error(
    ran: tuple[Enrich, subprocess.CompletedProcess[str]],
) -> None:
    enrich, done = ran
    assert done.returncode == 0, done.stderr
    counts = enrich.counts()
    for method in LOCATE:
        assert counts[(method, "bad_one")] == 4, (method, counts)
    # No item from prepare: incoming/outgoing calls of bad_one are never asked.
    assert not [key for key in counts if key[0].startswith("callHierarchy/") and "bad" in key[1]]
    for method in LOCATE:
        times = [
            r["t"] for r in enrich.requests() if (r["method"], r["name"]) == (method, "bad_one")
        ]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        for gap, scheduled in zip(gaps, (0.2, 0.4, 0.8), strict=True):
            assert gap >= scheduled - SLACK, (method, gaps)

    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    for op in (
        "references",
        "implementation",
        "prepare_call_hierarchy",
        "incoming_calls",
        "outgoing_calls",
    ):
        assert kinds[("bad_one", op)] == "error"
        assert kinds[("good_one", op)] == "edge"
        assert kinds[("Widget", op)] == "edge"
        assert kinds[("empty_thing", op)] == "none"

    result = summary(done)
    assert result["completed"] is True
    assert result["missing"] == 0
    assert result["requests"]["failures"] == 12  # 3 operations x 4 attempts, counted by the proxy
    assert result["operations"]["references"]["error"] == 1


def test_good_symbols_are_asked_once_each(
    ran: tuple[Enrich, subprocess.CompletedProcess[str]],
) -> None:
    enrich, done = ran
    assert done.returncode == 0
    counts = enrich.counts()
    for name in ("good_one", "Widget"):
        for method in (*LOCATE, "callHierarchy/incomingCalls", "callHierarchy/outgoingCalls"):
            assert counts[(method, name)] == 1, (method, name, counts)


def test_an_empty_answer_is_repeated_once_to_become_definitive(
    ran: tuple[Enrich, subprocess.CompletedProcess[str]],
) -> None:
    # The test server reports no progress, so the proxy wants a second empty answer at least
    # the base delay later (the readiness rule); the monitor provides exactly that.
    enrich, done = ran
    assert done.returncode == 0
    times = [
        r["t"]
        for r in enrich.requests()
        if r["name"] == "empty_thing" and r["method"] == "textDocument/references"
    ]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.2 - SLACK


def test_max_wait_stops_waiting_for_long_backoffs(enrich: Enrich) -> None:
    # base 0.5 with a 0.6 s max-wait: 0.5 and 1.0 would be next; 1.0 > 0.6 so the run ends
    # with bad_one still in backoff instead of waiting for it.
    done = enrich.run(
        "--backoff-base",
        "0.5",
        "--interval",
        "0.1",
        "--max-wait",
        "0.6",
        "--operation",
        "references",
    )
    # Not a completed run: bad_one's references are still missing (issue 12), and said so.
    assert done.returncode == 4, done.stderr
    assert enrich.counts()[("textDocument/references", "bad_one")] == 2
    result = summary(done)
    assert result["still_in_backoff"] == 1
    assert result["abandoned"] == 1
    assert result["completed"] is False
    assert [(p["name"], p["operation"], p["state"]) for p in result["unfilled"]] == [
        ("bad_one", "references", "backoff")
    ]
    assert result["operations"]["references"]["edges"] == 2
