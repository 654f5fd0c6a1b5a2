"""FailureTracker with a fake clock: schedule, skip, transient, empty answers, bounds, logs."""

from __future__ import annotations

import logging
import tracemalloc

import pytest

from lsp_backoff.tracker.backoff import BackoffPolicy, EmptyOutcome, Verdict
from lsp_backoff.tracker.failures import BUSY_EMPTY_REASON, FailureTracker
from lsp_backoff.tracker.model import FailureState

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
DOC = "file:///src/a.py"
OTHER = "file:///src/b.py"
SYM = f"{DOC}#3:4:foo"
OP = "definition"
LOGGER = "lsp_backoff.tracker"


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tracker(clock: FakeClock) -> FailureTracker:
    return FailureTracker(BackoffPolicy(), clock=clock)


def fail(tracker: FailureTracker, symbol: str = SYM, **kwargs: object) -> FailureState:
    document = symbol.split("#")[0]
    return tracker.record_failure(symbol, document, OP, "boom", **kwargs)  # type: ignore[arg-type]


def check(tracker: FailureTracker, symbol: str = SYM, version: str | None = None) -> Verdict:
    return tracker.check(symbol, symbol.split("#")[0], OP, version)


def test_exact_default_schedule_with_window_and_boundary(
    tracker: FailureTracker, clock: FakeClock
) -> None:
    for k, delay in enumerate([5, 10, 20, 40, 80, 160, 320], start=1):
        state = fail(tracker)
        assert (state.failures, state.retry_at, state.skipped) == (k, clock.now + delay, False)
        assert check(tracker) is Verdict.BACKOFF
        clock.advance(delay - 0.001)
        assert check(tracker) is Verdict.BACKOFF
        clock.advance(0.001)
        assert clock.now == state.retry_at
        assert check(tracker) is Verdict.ALLOW


def test_eighth_failure_skips_for_good(tracker: FailureTracker, clock: FakeClock) -> None:
    for _ in range(7):
        fail(tracker)
        clock.now = tracker.get(SYM, OP).retry_at  # type: ignore[union-attr]
    state = fail(tracker)
    assert (state.failures, state.skipped) == (8, True)
    assert check(tracker) is Verdict.SKIPPED
    clock.advance(10**9)
    assert check(tracker) is Verdict.SKIPPED


def test_custom_max_retries(clock: FakeClock) -> None:
    tracker = FailureTracker(BackoffPolicy(max_retries=1), clock=clock)
    assert not fail(tracker).skipped
    assert fail(tracker).skipped


def test_success_clears_and_restarts_the_schedule(
    tracker: FailureTracker, clock: FakeClock
) -> None:
    for _ in range(3):
        fail(tracker)
    cleared = tracker.record_success(SYM, DOC, OP)
    assert cleared is not None and cleared.failures == 3
    assert tracker.get(SYM, OP) is None
    assert check(tracker) is Verdict.ALLOW
    assert fail(tracker).retry_at == clock.now + 5
    assert tracker.record_success("file:///x#1:1:y", "file:///x", OP) is None


def test_success_clears_a_skip(tracker: FailureTracker) -> None:
    for _ in range(8):
        fail(tracker)
    assert check(tracker) is Verdict.SKIPPED
    tracker.record_success(SYM, DOC, OP)
    assert check(tracker) is Verdict.ALLOW


def test_transient_failures_never_skip(tracker: FailureTracker, clock: FakeClock) -> None:
    for n in range(1, 51):
        state = fail(tracker, transient=True)
        assert (state.transient, state.failures, state.skipped) == (n, 0, False)
        assert state.retry_at == clock.now + 5
        assert check(tracker) is Verdict.BACKOFF
        clock.advance(5)
        assert check(tracker) is Verdict.ALLOW
    assert tracker.counters["transient"] == 50
    assert tracker.counters["failures"] == tracker.counters["skipped"] == 0


def test_transient_neither_counts_nor_resets(tracker: FailureTracker, clock: FakeClock) -> None:
    for _ in range(3):
        fail(tracker)
    clock.advance(1000)
    assert fail(tracker, transient=True).failures == 3
    clock.advance(1000)
    state = fail(tracker)
    assert (state.failures, state.transient, state.retry_at) == (4, 1, clock.now + 40)


def test_transient_does_not_shorten_a_longer_window(
    tracker: FailureTracker, clock: FakeClock
) -> None:
    for _ in range(5):
        fail(tracker)
    assert fail(tracker, transient=True).retry_at == clock.now + 80


@pytest.mark.parametrize(("rng_value", "expected"), [(0.0, 2.5), (1.0 - 1e-12, 7.5)])
def test_jitter_extremes_in_the_tracker(
    clock: FakeClock, rng_value: float, expected: float
) -> None:
    tracker = FailureTracker(BackoffPolicy(jitter=0.5), clock=clock, rng=lambda: rng_value)
    assert fail(tracker).retry_at - clock.now == pytest.approx(expected)
    transient = fail(tracker, f"{DOC}#7:7:z", transient=True)  # transient: base, jittered
    assert transient.retry_at - clock.now == pytest.approx(expected)


def test_operations_are_tracked_apart(tracker: FailureTracker) -> None:
    fail(tracker)
    assert tracker.check(SYM, DOC, "references") is Verdict.ALLOW
    assert check(tracker) is Verdict.BACKOFF


def test_invalidate_rearms_only_that_document(tracker: FailureTracker) -> None:
    other_sym = f"{DOC}#9:0:bar"
    fail(tracker)
    fail(tracker, other_sym)
    tracker.record_failure(SYM, DOC, "references", "boom")
    fail(tracker, f"{OTHER}#1:1:baz")
    for _ in range(8):
        fail(tracker, other_sym)
    rearmed = tracker.invalidate(DOC)
    assert sorted(rearmed) == sorted([(SYM, OP), (other_sym, OP), (SYM, "references")])
    assert check(tracker) is check(tracker, other_sym) is Verdict.ALLOW
    assert check(tracker, f"{OTHER}#1:1:baz") is Verdict.BACKOFF
    assert len(tracker) == 1
    assert tracker.invalidate(DOC) == []
    assert tracker.invalidate("file:///never-seen") == []


def test_a_state_moving_to_another_document_moves_in_the_index(tracker: FailureTracker) -> None:
    fail(tracker)
    tracker.record_failure(SYM, OTHER, OP, "boom")
    assert tracker.invalidate(DOC) == []
    assert tracker.invalidate(OTHER) == [(SYM, OP)]
    assert tracker._by_document == {}


def test_version_change_rearms(tracker: FailureTracker) -> None:
    fail(tracker, version="v1")
    assert check(tracker, version="v1") is Verdict.BACKOFF
    assert check(tracker, version=None) is Verdict.BACKOFF
    assert check(tracker, version="v2") is Verdict.ALLOW
    assert tracker.get(SYM, OP) is None


def test_failure_under_a_new_version_starts_over(tracker: FailureTracker) -> None:
    for _ in range(3):
        fail(tracker, version="v1")
    state = fail(tracker, version="v2")
    assert (state.failures, state.version) == (1, "v2")


def test_unversioned_state_survives_a_versioned_check(tracker: FailureTracker) -> None:
    fail(tracker)
    assert check(tracker, version="v9") is Verdict.BACKOFF


def empty(tracker: FailureTracker, *, busy: bool = False, ready: bool = False) -> EmptyOutcome:
    return tracker.record_empty(SYM, DOC, OP, busy=busy, ready=ready)


def test_busy_empty_is_a_transient_failure(tracker: FailureTracker, clock: FakeClock) -> None:
    assert empty(tracker, busy=True, ready=True) is EmptyOutcome.TRANSIENT
    state = tracker.get(SYM, OP)
    assert state is not None
    assert (state.transient, state.failures, state.retry_at) == (1, 0, clock.now + 5)
    assert state.last_error == BUSY_EMPTY_REASON
    assert check(tracker) is Verdict.BACKOFF


def test_ready_empty_is_definitive_and_clears(tracker: FailureTracker) -> None:
    fail(tracker)
    assert empty(tracker, ready=True) is EmptyOutcome.DEFINITIVE
    assert tracker.get(SYM, OP) is None


def test_tentative_empty_confirmed_after_base(tracker: FailureTracker, clock: FakeClock) -> None:
    assert empty(tracker) is EmptyOutcome.TENTATIVE
    state = tracker.get(SYM, OP)
    assert state is not None and (state.empty_since, state.retry_at) == (T0, T0 + 5)
    assert check(tracker) is Verdict.ALLOW  # a tentative state never short-circuits
    clock.advance(4.999)
    assert empty(tracker) is EmptyOutcome.TENTATIVE
    assert tracker.get(SYM, OP).empty_since == T0  # type: ignore[union-attr]
    clock.now = T0 + 5
    assert empty(tracker) is EmptyOutcome.DEFINITIVE
    assert tracker.get(SYM, OP) is None


def test_empty_answer_ends_a_failure_run(tracker: FailureTracker) -> None:
    for _ in range(3):
        fail(tracker)
    assert empty(tracker) is EmptyOutcome.TENTATIVE
    state = tracker.get(SYM, OP)
    assert state is not None and (state.failures, state.skipped) == (0, False)
    assert check(tracker) is Verdict.ALLOW


def test_failure_between_empties_restarts_confirmation(
    tracker: FailureTracker, clock: FakeClock
) -> None:
    empty(tracker)
    clock.advance(1)
    fail(tracker, transient=True)
    clock.advance(10)
    assert empty(tracker) is EmptyOutcome.TENTATIVE


def test_restore_keeps_states_as_given(tracker: FailureTracker, clock: FakeClock) -> None:
    skipped = FailureState(SYM, DOC, OP, failures=8, skipped=True, retry_at=T0 - 100)
    waiting = FailureState(f"{OTHER}#1:1:b", OTHER, OP, failures=2, retry_at=T0 + 7, version="h")
    tracker.restore([skipped, waiting])
    assert tracker.get(SYM, OP) == skipped
    assert tracker.get(waiting.symbol, OP) == waiting
    assert check(tracker) is Verdict.SKIPPED
    assert check(tracker, waiting.symbol) is Verdict.BACKOFF
    assert check(tracker, waiting.symbol, version="other") is Verdict.ALLOW
    skipped.failures = 1  # the tracker holds its own copy
    assert tracker.get(SYM, OP).failures == 8  # type: ignore[union-attr]
    assert tracker.invalidate(DOC) == [(SYM, OP)]


def test_returned_states_are_copies(tracker: FailureTracker) -> None:
    returned = fail(tracker)
    returned.failures = 99
    got = tracker.get(SYM, OP)
    assert got is not None and got.failures == 1
    got.skipped = True
    assert check(tracker) is Verdict.BACKOFF


def test_counters(tracker: FailureTracker) -> None:
    for _ in range(9):  # the ninth hits a skipped state: nothing more to count
        fail(tracker)
    fail(tracker, f"{DOC}#5:5:x", transient=True)
    assert tracker.counters == {"failures": 8, "skipped": 1, "transient": 1}


def test_log_lines(
    tracker: FailureTracker, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    fail(tracker)
    assert [r.getMessage() for r in caplog.records] == [
        f"failure definition {SYM} attempt 1: boom; next retry at 2023-11-14T22:13:25Z"
    ]
    for _ in range(20):  # checks inside the window log nothing
        check(tracker)
    for _ in range(7):
        clock.advance(1000)
        fail(tracker)
    for _ in range(3):
        check(tracker)
        fail(tracker)
    records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert [level for _, level, _ in records] == [logging.INFO] * 7 + [logging.WARNING]
    assert {name for name, _, _ in records} == {LOGGER}
    assert [m.split(":")[0] for _, _, m in records[:7]] == [
        f"failure definition {SYM.split(':')[0]}" for _ in range(7)
    ]
    assert [f" attempt {k}: boom;" in m for k, (_, _, m) in enumerate(records[:7], 1)] == [True] * 7
    assert records[-1][2] == f"skipped for good definition {SYM} after 8 failures: boom"


def test_transient_log_line(tracker: FailureTracker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    fail(tracker, transient=True)
    fail(tracker, transient=True)
    assert [r.getMessage() for r in caplog.records][-1] == (
        f"failure definition {SYM} attempt 2: boom (transient); next retry at 2023-11-14T22:13:25Z"
    )


def test_reason_is_one_bounded_line(
    tracker: FailureTracker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    state = tracker.record_failure(SYM, DOC, OP, "Traceback:\n  line 1\r\n" + "x" * 5000)
    assert "\n" not in caplog.records[0].getMessage()
    assert state.last_error.startswith("Traceback: line 1 xxx")
    assert len(state.last_error) == 500


def test_maxsize_evicts_least_recently_used_and_keeps_the_index(clock: FakeClock) -> None:
    tracker = FailureTracker(BackoffPolicy(), clock=clock, maxsize=100)
    docs = [f"file:///d{i}.py" for i in range(10)]
    keep = f"{docs[0]}#0:0:s0"
    for i in range(1000):
        doc = docs[i % 10]
        tracker.record_failure(f"{doc}#{i}:0:s{i}", doc, OP, "boom")
        tracker.check(keep, docs[0], OP)  # recently used: survives eviction
    assert len(tracker) == 100
    assert tracker.get(keep, OP) is not None
    rearmed = [pair for doc in docs for pair in tracker.invalidate(doc)]
    assert len(rearmed) == len(set(rearmed)) == 100
    assert len(tracker) == 0
    assert tracker._by_document == {}  # evicted keys left nothing behind


def test_rejects_a_zero_maxsize() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        FailureTracker(BackoffPolicy(), maxsize=0)


def test_100k_states_stay_well_under_100_mb(clock: FakeClock) -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracker = FailureTracker(BackoffPolicy(), clock=clock)
        for i in range(100_000):
            doc = f"file:///home/user/project/src/package/module_{i % 2000}.py"
            tracker.record_failure(f"{doc}#{i}:12:identifier_{i}", doc, OP, "Request failed")
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(tracker) == 100_000
    assert used < 100 * 1024 * 1024


def test_restore_keeps_what_memory_learnt_while_the_database_was_opening(
    tracker: FailureTracker,
) -> None:
    fail(tracker)
    fail(tracker)  # two failures in memory
    tracker.restore([FailureState(SYM, DOC, OP, failures=1, retry_at=T0 + 5)])
    assert tracker.get(SYM, OP).failures == 2  # type: ignore[union-attr]
    tracker.restore([FailureState(SYM, DOC, OP, failures=8, skipped=True, retry_at=T0)])
    assert check(tracker) is Verdict.SKIPPED  # the database knew more: it was skipped
