"""FailureTracker: per-(symbol, operation) failure state and the verdict for the next request.

It applies a ``BackoffPolicy`` to outcomes the caller reports (failure, transient failure,
success, empty answer), answers ``check()`` with ALLOW / BACKOFF / SKIPPED, logs one line per
failure and one when a symbol is skipped for good, and keeps counters for the stats.

It does not: talk LSP, decide what counts as a failure (the caller classifies responses), persist
anything (the caller writes the returned ``FailureState`` copies to the store and hands them back
through ``restore()``), or run timers — time only moves through the injected ``clock``.
State is bounded by an LRU cache of ``maxsize`` entries; a per-document index serves
``invalidate()`` and is kept in step when the LRU evicts.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import random
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from cachetools import LRUCache

from lsp_backoff.tracker.backoff import BackoffPolicy, EmptyOutcome, Verdict
from lsp_backoff.tracker.model import FailureState

__all__ = ["BackoffPolicy", "EmptyOutcome", "FailureTracker", "Verdict"]

log = logging.getLogger("lsp_backoff.tracker")

Key = tuple[str, str]  # (symbol, operation)

BUSY_EMPTY_REASON = "empty answer while the server is busy"
#: Server error messages can be whole stack traces; 100k states must stay small and logs readable.
MAX_REASON_CHARS = 500


class _StateCache(LRUCache[Key, FailureState]):
    """An LRUCache that reports evictions, so the tracker's document index never goes stale."""

    def __init__(self, maxsize: int, on_evict: Callable[[Key, FailureState], None]) -> None:
        super().__init__(maxsize)
        self._on_evict = on_evict

    def popitem(self) -> tuple[Key, FailureState]:
        # cachetools evicts only through popitem(), so this one hook covers every eviction.
        key, state = super().popitem()
        self._on_evict(key, state)
        return key, state


class FailureTracker:
    """Failure bookkeeping for tracked requests, keyed by (symbol, operation).

    Every method that returns a ``FailureState`` returns a copy: callers may keep or send it to
    another thread without racing later updates.
    """

    def __init__(
        self,
        policy: BackoffPolicy,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        maxsize: int = 100_000,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize!r}")
        self.policy = policy
        self._clock = clock
        self._rng = rng
        self._states = _StateCache(maxsize, self._unindex)
        # document → ordered set of keys (a dict, so invalidate() reports in insertion order).
        self._by_document: dict[str, dict[Key, None]] = {}
        self.counters: collections.Counter[str] = collections.Counter()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, symbol: str, operation: str) -> FailureState | None:
        """A copy of the state of (symbol, operation), or None if it has none."""
        state = self._states.get((symbol, operation))
        return None if state is None else dataclasses.replace(state)

    def check(
        self, symbol: str, document: str, operation: str, version: str | None = None
    ) -> Verdict:
        """Whether a request for (symbol, operation) may go to the server now.

        ``document`` is accepted for symmetry with the recording methods; the key alone decides.
        """
        state = self._current((symbol, operation), version)
        if state is None:
            return Verdict.ALLOW
        if state.skipped:
            return Verdict.SKIPPED
        if state.empty_since is not None and state.failures == 0 and state.transient == 0:
            # A tentative empty answer is waiting for a confirming repeat: that repeat must reach
            # the server, so it never short-circuits.
            return Verdict.ALLOW
        return Verdict.BACKOFF if self._clock() < state.retry_at else Verdict.ALLOW

    def record_failure(
        self,
        symbol: str,
        document: str,
        operation: str,
        reason: str,
        *,
        transient: bool = False,
        version: str | None = None,
    ) -> FailureState:
        """Record a failed request; schedule the next attempt or give up. Logs one line."""
        now = self._clock()
        reason = _one_line(reason)
        state = self._state_for(symbol, document, operation, version)
        state.last_error = reason
        state.updated_at = now
        # The last answer was not empty, so a pending tentative empty is no longer confirmable.
        state.empty_since = None
        if state.skipped:
            # Only a request already in flight when the symbol was skipped gets here; the skip
            # was logged and counted once, and a skip is final.
            return dataclasses.replace(state)
        if transient:
            state.transient += 1
            # max(): a transient answer to a concurrent request must not shorten a longer window.
            state.retry_at = max(state.retry_at, now + self.policy.delay(1, self._rng))
            self.counters["transient"] += 1
            self._log_failure(state, state.transient, f"{reason} (transient)")
            return dataclasses.replace(state)
        state.failures += 1
        self.counters["failures"] += 1
        if self.policy.gives_up(state.failures):
            state.skipped = True
            state.retry_at = now
            self.counters["skipped"] += 1
            log.warning(
                "skipped for good %s %s after %d failures: %s",
                operation,
                symbol,
                state.failures,
                reason,
            )
        else:
            state.retry_at = now + self.policy.delay(state.failures, self._rng)
            self._log_failure(state, state.failures, reason)
        return dataclasses.replace(state)

    def record_success(self, symbol: str, document: str, operation: str) -> FailureState | None:
        """Forget (symbol, operation): a non-empty answer. Returns the state it had, if any."""
        return self._drop((symbol, operation))

    def record_empty(
        self,
        symbol: str,
        document: str,
        operation: str,
        *,
        busy: bool,
        ready: bool,
        version: str | None = None,
    ) -> EmptyOutcome:
        """Classify an empty answer (``null`` / ``[]``) and update the state accordingly.

        ``busy``: the server has unfinished work in progress → a transient failure.
        ``ready``: the server has signalled it finished loading → the answer is definitive.
        Otherwise the answer is definitive only when an earlier empty answer is at least
        ``policy.base`` seconds old; until then it is tentative and ``check()`` still allows.
        """
        if busy:
            self.record_failure(
                symbol, document, operation, BUSY_EMPTY_REASON, transient=True, version=version
            )
            return EmptyOutcome.TRANSIENT
        key = (symbol, operation)
        if ready:
            self._drop(key)
            return EmptyOutcome.DEFINITIVE
        now = self._clock()
        existing = self._current(key, version)
        since = None if existing is None else existing.empty_since
        if since is not None and now - since >= self.policy.base:
            self._drop(key)
            return EmptyOutcome.DEFINITIVE
        state = self._state_for(symbol, document, operation, version)
        # The server did answer, which ends any run of consecutive failures (and a skip).
        state.failures = 0
        state.transient = 0
        state.skipped = False
        state.last_error = ""
        if state.empty_since is None:
            state.empty_since = now
        state.retry_at = state.empty_since + self.policy.base
        state.updated_at = now
        return EmptyOutcome.TENTATIVE

    def put_back(self, symbol: str, operation: str, prior: FailureState | None) -> None:
        """Undo what was charged to (symbol, operation) since ``prior`` (a copy ``get``
        returned then; None: it had no state) — the failures were not the symbol's."""
        if prior is None:
            self._drop((symbol, operation))
        else:
            self._put(dataclasses.replace(prior))

    def invalidate(self, document: str) -> list[tuple[str, str]]:
        """Drop every state of ``document`` (its content changed); return the pairs re-armed."""
        keys = list(self._by_document.get(document, ()))
        for key in keys:
            self._drop(key)
        return keys

    def restore(self, states: Iterable[FailureState]) -> None:
        """Load states (from the database at start-up); later ones count as newer.

        A key already tracked in memory (decided while the database was still opening) keeps
        whichever state knows more: the skipped one, else the one with more failures.
        """
        for state in states:
            key = (state.symbol, state.operation)
            known = self._states.get(key)
            if known is not None and not state.skipped and state.failures <= known.failures:
                continue
            self._put(dataclasses.replace(state))

    # -- internals -------------------------------------------------------------------------

    def _current(self, key: Key, version: str | None) -> FailureState | None:
        """The live state for ``key``, dropping it first if the document changed since."""
        state: FailureState | None = self._states.get(key)  # get() also refreshes LRU order
        if state is None:
            return None
        if version is not None and state.version is not None and state.version != version:
            self._drop(key)
            return None
        return state

    def _state_for(
        self, symbol: str, document: str, operation: str, version: str | None
    ) -> FailureState:
        """The live state to update in place, created if missing."""
        state = self._current((symbol, operation), version)
        if state is None:
            state = FailureState(symbol=symbol, document=document, operation=operation)
            self._put(state)
        elif state.document != document:
            # Symbol keys embed the URI, so this only happens if a caller changes its keying.
            self._unindex((symbol, operation), state)
            state.document = document
            self._put(state)
        if version is not None:
            state.version = version
        return state

    def _put(self, state: FailureState) -> None:
        # One shared string per document and operation rather than one per parsed request:
        # ~10 MB less at 100k states.
        state.document = sys.intern(state.document)
        state.operation = sys.intern(state.operation)
        key = (state.symbol, state.operation)
        old: FailureState | None = self._states.get(key)
        if old is not None:
            self._unindex(key, old)
        # Insert before indexing: the insertion may evict (and unindex) the oldest entry.
        self._states[key] = state
        self._by_document.setdefault(state.document, {})[key] = None

    def _drop(self, key: Key) -> FailureState | None:
        state: FailureState | None = self._states.pop(key, None)
        if state is not None:
            self._unindex(key, state)
        return state

    def _unindex(self, key: Key, state: FailureState) -> None:
        keys = self._by_document.get(state.document)
        if keys is None:
            return
        keys.pop(key, None)
        if not keys:  # no empty entries left behind, or the index would grow without bound
            del self._by_document[state.document]

    def _log_failure(self, state: FailureState, attempt: int, reason: str) -> None:
        if log.isEnabledFor(logging.INFO):  # skip the date formatting when nobody listens
            log.info(
                "failure %s %s attempt %d: %s; next retry at %s",
                state.operation,
                state.symbol,
                attempt,
                reason,
                _iso(state.retry_at),
            )


def _iso(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, tz=UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def _one_line(reason: str) -> str:
    """Keep each log line one line and each stored reason short."""
    if reason.isprintable() and len(reason) <= MAX_REASON_CHARS:
        return reason  # the common case: share the caller's string, don't copy it per state
    text = " ".join(reason.split())
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    return text
