"""The backoff schedule: exact delays, the give-up point, jitter bounds, validation."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest

from lsp_backoff.tracker.backoff import BackoffPolicy, EmptyOutcome, Verdict

EPSILON = 1e-12


def never_called() -> float:
    raise AssertionError("rng must not be called when jitter is 0")


def test_default_schedule_is_exact() -> None:
    policy = BackoffPolicy()
    delays = [policy.delay(k, never_called) for k in range(1, 8)]
    assert delays == [5, 10, 20, 40, 80, 160, 320]


@pytest.mark.parametrize("failures", [8, 9, 20, 1100, 10**6])
def test_delay_stays_at_the_cap(failures: int) -> None:
    assert BackoffPolicy().delay(failures) == 320


def test_custom_base_and_cap() -> None:
    policy = BackoffPolicy(base=1.5, cap=10)
    assert [policy.delay(k) for k in range(1, 6)] == [1.5, 3, 6, 10, 10]


def test_gives_up_after_max_retries_plus_one_failures() -> None:
    policy = BackoffPolicy()
    assert [policy.gives_up(k) for k in range(0, 10)] == [False] * 8 + [True] * 2


def test_zero_retries_gives_up_on_the_first_failure() -> None:
    policy = BackoffPolicy(max_retries=0)
    assert not policy.gives_up(0)
    assert policy.gives_up(1)


def test_jitter_extremes() -> None:
    policy = BackoffPolicy(jitter=0.5)
    assert policy.delay(1, lambda: 0.0) == pytest.approx(2.5)
    high = policy.delay(1, lambda: 1.0 - EPSILON)
    assert high == pytest.approx(7.5)
    assert high < 7.5
    assert policy.delay(1, lambda: 0.5) == pytest.approx(5.0)
    # Jitter applies after the cap, keeping capped retries spread out.
    assert policy.delay(30, lambda: 0.0) == pytest.approx(160.0)


def test_jitter_stays_within_bounds() -> None:
    policy = BackoffPolicy(jitter=0.25)
    rng = random.Random(1234).random
    for k in range(1, 9):
        nominal = min(5.0 * 2 ** (k - 1), 320.0)
        for _ in range(200):
            assert nominal * 0.75 <= policy.delay(k, rng) < nominal * 1.25


def test_zero_jitter_is_deterministic() -> None:
    policy = BackoffPolicy(jitter=0.0)
    assert {policy.delay(3, random.random) for _ in range(50)} == {20.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base": -1.0}, "base"),
        ({"base": math.inf}, "base"),
        ({"base": math.nan}, "base"),
        ({"base": 10.0, "cap": 5.0}, "max"),
        ({"cap": math.inf}, "max"),
        ({"max_retries": -1}, "max retries"),
        ({"max_retries": 1.5}, "max retries"),
        ({"max_retries": True}, "max retries"),
        ({"jitter": -0.1}, "jitter"),
        ({"jitter": 1.0}, "jitter"),
        ({"jitter": math.nan}, "jitter"),
    ],
)
def test_bad_values_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BackoffPolicy(**kwargs)  # type: ignore[arg-type]


def test_edge_values_are_accepted() -> None:
    policy = BackoffPolicy(base=0, cap=0, max_retries=0, jitter=0.999)
    assert policy.delay(3, lambda: 0.9) == 0


def test_delay_needs_at_least_one_failure() -> None:
    with pytest.raises(ValueError, match="failures"):
        BackoffPolicy().delay(0)


def test_policy_is_frozen() -> None:
    policy = BackoffPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.base = 1.0  # type: ignore[misc]


def test_enum_values_are_stable() -> None:
    # The values appear in logs and stats; renaming one is an interface change.
    assert [v.value for v in Verdict] == ["allow", "backoff", "skipped"]
    assert [e.value for e in EmptyOutcome] == ["definitive", "tentative", "transient"]
