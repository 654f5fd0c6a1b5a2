"""The backoff schedule: how long to wait after the k-th failure, and when to give up.

This module is pure: a frozen policy plus the two verdict enums the tracker hands out. It keeps
no state, reads no clock and does no I/O; ``tracker.failures.FailureTracker`` applies it to
per-(symbol, operation) state. Randomness (jitter) comes from an injectable ``rng`` so tests
can pin it.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BackoffPolicy", "EmptyOutcome", "Verdict"]


class Verdict(enum.Enum):
    """What to do with a tracked request right now."""

    ALLOW = "allow"  # send it to the server
    BACKOFF = "backoff"  # inside the retry window: answer `null` locally
    SKIPPED = "skipped"  # given up for good: answer `null` locally


class EmptyOutcome(enum.Enum):
    """How an empty answer (``null`` / ``[]``) was classified.

    See the readiness rule in docs/behaviour.md.
    """

    DEFINITIVE = "definitive"  # the symbol really has no result: record a "none" placeholder
    TENTATIVE = "tentative"  # maybe still loading: wait for a repeat at least `base` later
    TRANSIENT = "transient"  # the server was busy: counted as a transient failure


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff with a cap, a retry limit and optional symmetric jitter.

    After the k-th consecutive failure the next attempt waits ``min(base * 2**(k-1), cap)``
    seconds (5, 10, 20, 40, 80, 160, 320 with the defaults). After ``max_retries`` retries have
    failed as well — ``max_retries + 1`` failures in all — the caller gives up for good.
    ``jitter`` F spreads each delay uniformly over ``[d*(1-F), d*(1+F))``; 0 is deterministic.
    """

    base: float = 5.0
    cap: float = 320.0
    max_retries: int = 7
    jitter: float = 0.0

    def __post_init__(self) -> None:
        # Fail at construction (i.e. at CLI/config parsing time) rather than on the first failure.
        if not _finite_number(self.base) or self.base < 0:
            raise ValueError(f"backoff base must be a finite number >= 0, got {self.base!r}")
        if not _finite_number(self.cap) or self.cap < self.base:
            raise ValueError(
                f"backoff max must be a finite number >= the base ({self.base!r}), got {self.cap!r}"
            )
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise ValueError(f"max retries must be an integer >= 0, got {self.max_retries!r}")
        if not _finite_number(self.jitter) or not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be a number in [0, 1), got {self.jitter!r}")

    def delay(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (``failures`` >= 1).

        ``rng`` must return a float in [0, 1) like ``random.random``; it is only called when
        jitter is non-zero. Jitter is applied after the cap, so a capped delay may exceed the
        cap by up to ``jitter * cap`` — that keeps capped retries of many symbols spread out.
        """
        if failures < 1:
            raise ValueError(f"failures must be >= 1, got {failures!r}")
        try:
            nominal = min(self.base * 2.0 ** (failures - 1), self.cap)
        except OverflowError:  # 2.0**k overflows past k≈1024; the cap was reached long before
            nominal = self.cap
        if self.jitter == 0:
            return nominal
        # Map rng() in [0, 1) onto [-1, 1): the low end gives d*(1-F), the high end → d*(1+F).
        return nominal * (1.0 + self.jitter * (2.0 * rng() - 1.0))

    def gives_up(self, failures: int) -> bool:
        """True once ``failures`` consecutive failures exhaust the retries (> ``max_retries``)."""
        return failures > self.max_retries


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
