"""What every session on one graph shares: the tracker, the outcomes, the store link, counters.

A :class:`Core` is built by the caller and handed to each :class:`proxy.session.Session`, so N
sessions on one graph (``enrich --servers N``) make one short-circuit decision per (symbol,
operation), keep one set of counters and feed one writer thread — never N writers taking
turns at the same file, and no session closes the store under another. What belongs to one
server stays in its session: its pipes, readiness, position encoding, open documents and the
ids of its requests in flight.

Deferred work is the core's too: the sessions share one event loop, and a decision
in one must see what another learnt a moment ago (``drain``).

Lifecycle: ``Core.open(config)``; every session's ``start`` attaches it to the running loop
(the store opens off the loop once, on the first attach or on the first ``initialize`` that
names the workspace); ``await core.close()`` once every session has finished.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import Any

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.outcomes import Outcomes, Sink
from lsp_backoff.proxy.store_link import StoreLink
from lsp_backoff.tracker.failures import FailureTracker

log = logging.getLogger("lsp_backoff.routing")

#: At most this many internal errors are logged per window; the rest are counted, and said
#: in one line when the window ends. A flood of hostile frames writes a bounded log.
ERRORS_LOGGED_PER_WINDOW = 10
ERROR_WINDOW_SECONDS = 600.0

#: The counters ``lspBackoff/stats`` reports, in this order.
STAT_KEYS = (
    "forwarded",
    "short_circuited",
    "failures",
    "transient",
    "timeouts",
    "skipped",
    "tracked",
    "internal_errors",
    "coalesced",
    "server_faults",
)


class Core:
    def __init__(
        self,
        config: ProxyConfig,
        *,
        tracker: FailureTracker | None = None,
        sink: Sink | None = None,
        clock: Callable[[], float] = time.monotonic,
        names: bool = True,
    ) -> None:
        """``tracker``, ``sink`` and ``clock`` replace the real ones in tests; ``names`` False
        leaves the name rule across files to the caller (Outcomes.mentions)."""
        self.config = config
        self.tracker = tracker if tracker is not None else FailureTracker(config.policy)
        #: Every counter ``lspBackoff/stats`` reports, shared by the sessions on this core.
        self.counters: collections.Counter[str] = self.tracker.counters
        self.store = StoreLink(config, self.tracker)
        self.sink: Sink = sink if sink is not None else self.store
        self.outcomes = Outcomes(self.tracker, self.sink, names=names)
        # Work queued by any session's router (recording an answer, applying an edit): one
        # queue, so a decision in one session first applies what every session learnt.
        self._deferred: list[Callable[[], None]] = []
        self._clock = clock
        self._window_end = 0.0
        self._logged = 0
        self._suppressed = 0

    @classmethod
    def open(cls, config: ProxyConfig, *, names: bool = True) -> Core:
        return cls(config, names=names)

    def defer(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after the frame at hand has been written (see ``drain``)."""
        self._deferred.append(fn)

    def drain(self) -> None:
        """Run the deferred work, every session's, before a decision that depends on it."""
        while self._deferred:
            batch, self._deferred = self._deferred, []
            for fn in batch:
                try:
                    fn()
                except Exception as exc:  # a bug in bookkeeping must never stop the relay
                    self.internal_error("while recording a message", exc)

    def internal_error(self, what: str, exc: BaseException) -> None:
        """An exception while deciding about or recording a frame: the frame went on
        unchanged; count it (``internal_errors`` in the stats) and log it, rate-limited."""
        self.counters["internal_errors"] += 1
        now = self._clock()
        if now >= self._window_end:
            if self._suppressed:
                log.error("%d more internal errors were not logged", self._suppressed)
            self._window_end = now + ERROR_WINDOW_SECONDS
            self._logged = self._suppressed = 0
        if self._logged >= ERRORS_LOGGED_PER_WINDOW:
            self._suppressed += 1
            return
        self._logged += 1
        log.error("internal error %s: %s: %s (forwarded unchanged)", what, type(exc).__name__, exc)
        log.debug("internal error %s", what, exc_info=exc)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """A session starts on ``loop``: open the store there, once for all sessions."""
        self.store.start(loop)

    def on_initialize(self, params: dict[str, Any]) -> None:
        """A session's ``initialize``: the first that names a workspace locates the store."""
        self.store.on_initialize(params)

    async def flush(self) -> bool:
        """True once every write made so far (by any session) is committed."""
        return await self.store.flush()

    async def close(self) -> None:
        """Commit what is queued and stop the writer; call once every session has finished."""
        await self.store.close()
