"""The SQLite graph store: one writer thread owns the connection; callers only enqueue.

``GraphStore.put_*`` never block and never raise for database trouble: they append to a bounded
queue (a full queue drops the write and counts it in ``dropped``). The writer thread drains the
queue in batches, one transaction per batch (the SQL is in ``tracker.store_sql``). A put costs
the caller a deque append: the writer is woken once per batch, not once per write. A locked, full
or unwritable database is logged once; the batch is kept and retried with a growing pause, so
writes resume when they can. Opening and migrating a database, and the reads: ``tracker.queries``.
"""

from __future__ import annotations

import collections
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lsp_backoff.tracker import moves, staleness
from lsp_backoff.tracker import store_sql as sql
from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.queries import StorePath, open_connection, read_failures
from lsp_backoff.tracker.store_sql import SOURCES, Op

logger = logging.getLogger("lsp_backoff.tracker.store")  # with the proxy's other loggers

T = TypeVar("T")
__all__ = ["SOURCES", "GraphStore"]

_BATCH = 500
#: How long the writer waits for more writes to commit with the first one.
_GROUP_SECONDS = 0.01
_MIN_PAUSE = 0.05
_MAX_PAUSE = 2.0


@dataclass
class _Query:
    fn: Callable[[sqlite3.Connection], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    #: Called on the writer thread with the result (query_later); errors are logged.
    callback: Callable[[Any], None] | None = None


_STOP = object()


class GraphStore:
    """The graph database of one proxy (or ``enrich``) process; see the module docstring."""

    def __init__(
        self,
        path: StorePath | None,
        *,
        queue_size: int = 10_000,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.dropped = 0
        self._busy_timeout = busy_timeout
        self._clock = clock
        # Writes, queries and the stop marker, in order. deque.append is atomic, so a put
        # wakes nobody unless the writer sleeps on an empty queue (_wake) or a query or the
        # stop marker should cut its group-commit pause short (_urgent).
        self._queue: collections.deque[object] = collections.deque()
        self._queue_size = queue_size
        self._wake = threading.Event()
        self._sleeping = False  # the writer waits on _wake for the queue to fill
        self._urgent = threading.Event()
        self._lock = threading.Condition()
        self._enqueued = 0  # writes accepted; guarded by _lock
        self._done = 0  # writes committed (or discarded as unwritable); guarded by _lock
        self._warned_full = False
        self._troubled = False
        self._warned_bad = False
        self._fatal: StoreError | None = None
        self._closed = False
        self._opened = threading.Event()
        self._abandon = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer; raise StoreError if the file is not (a usable) lsp-backoff database.

        Transient trouble (locked, unwritable) does not raise: the writer keeps retrying.
        """
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="lsp-backoff-store", daemon=True)
        self._thread.start()
        # Bounded: opening waits at most a few busy timeouts (journal mode, migration lock).
        self._opened.wait(timeout=3 * self._busy_timeout + 5.0)
        if self._fatal is not None:
            raise self._fatal

    def close(self, timeout: float = 5.0) -> None:
        """Commit what is queued, then stop the writer (gives up after ``timeout`` seconds)."""
        thread = self._thread
        self._closed = True
        if thread is None or not thread.is_alive():
            return
        deadline = time.monotonic() + timeout
        self._put_control(_STOP)
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            with self._lock:
                lost = self._enqueued - self._done
            logger.warning("graph database %s: closing with %d writes not saved", self.path, lost)
            self._abandon.set()
            thread.join(1.0)
        if self.dropped:
            logger.warning("graph database: %d writes were dropped (queue full)", self.dropped)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every write enqueued so far is committed; False on timeout or failure."""
        with self._lock:
            target = self._enqueued
            return self._lock.wait_for(
                lambda: self._done >= target or self._fatal is not None, timeout
            ) and (self._fatal is None)

    def query(self, fn: Callable[[sqlite3.Connection], T], timeout: float = 5.0) -> T:
        """Run ``fn(conn)`` on the writer thread, after the writes queued before it.

        Returns fn's result; this is how an in-memory store (``path=None``) is read.
        """
        if self._thread is None or not self._thread.is_alive():
            raise StoreError("the graph store is not running")
        request = _Query(fn)
        self._put_control(request)
        if not request.done.wait(timeout):
            raise StoreError("the graph store did not answer the query in time")
        if request.error is not None:
            raise request.error
        return request.result  # type: ignore[no-any-return]

    def query_later(
        self, fn: Callable[[sqlite3.Connection], T], callback: Callable[[T], None]
    ) -> None:
        """Run ``fn(conn)`` on the writer thread once the database is open (after the writes
        queued before it) and hand the result to ``callback`` there; never blocks.

        A database that is locked or being migrated by another process delays the call
        until it opens (the writer retries, logging why once); it is never skipped."""
        self._put_control(_Query(fn, callback=callback))  # type: ignore[arg-type]

    def load_failures(self) -> list[FailureState]:
        """Current failure states, read now on a connection of their own ([] without a file).

        Raises StoreError when the file cannot be read now: load_failures_later waits."""
        if self.path is None:
            return self.query(read_failures) if self._thread is not None else []
        if not os.path.exists(self.path):
            return []  # nothing recorded yet
        try:
            conn = open_connection(self.path, create=False, busy_timeout=self._busy_timeout)
        except sqlite3.Error as exc:
            raise StoreError(
                f"graph database {self.path}: cannot read failure state: {exc}"
            ) from exc
        try:
            return read_failures(conn)
        finally:
            conn.close()

    def load_failures_later(self, callback: Callable[[list[FailureState]], None]) -> None:
        """Current failure states (document unchanged), handed to ``callback`` on the writer
        thread as soon as the database can be read: a restarted proxy keeps backing off even
        when its file was busy at start."""
        self.query_later(read_failures, callback)

    # -- writes (enqueue only) ---------------------------------------------------------------

    def put_document(self, uri: str, version: str) -> None:
        """Record the current content hash of a document: older rows of it become stale."""
        self._put(sql.document_op(uri, version, self._clock()))

    def put_symbols(self, symbols: Sequence[SymbolRef], source: str) -> None:
        self._put(sql.symbols_op(symbols, source, self._clock()))

    def put_edges(
        self,
        symbol: SymbolRef,
        operation: str,
        targets: Sequence[Target] | Callable[[], Sequence[Target]],
    ) -> None:
        """Replace the (symbol, operation) rows, stale ones too, with edges; clear its failure.

        ``targets`` may be a function returning them: it then runs on the writer thread, so a
        caller on a latency-sensitive thread hands over the work of extracting and building
        rows (the proxy passes one that reads the server's answer).
        """
        sql.check_operation(operation)
        now = self._clock()
        self._put(lambda: sql.edges_op(symbol, operation, targets, now))  # type: ignore[arg-type]

    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None:
        """Replace the (symbol, operation) rows with a "none" or "error" placeholder."""
        self._put(sql.placeholder_op(symbol, operation, kind, detail, self._clock()))

    def put_failure(self, state: FailureState) -> None:
        self._put(sql.failure_op(state))

    def clear_failure(self, symbol: str, operation: str) -> None:
        self._put(sql.clear_failure_op(symbol, operation))

    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None:
        """Delete a placeholder whose detail starts with ``detail_prefix``: the inference
        it recorded no longer holds, so the pair lacks data again."""
        self._put(sql.withdraw_op(symbol, operation, kind, detail_prefix))

    def forget_document(self, uri: str) -> None:
        """The document left the workspace: its symbols, rows and failure state go, and so
        does every (symbol, operation) elsewhere with an edge into it (tracker.staleness)."""
        self._put(staleness.forget_document_op(uri))

    def rearm(
        self,
        uri: str,
        names: Collection[str] | Callable[[], Collection[str] | moves.Edited | None],
        operations: Collection[str],
    ) -> None:
        """The document changed and its old or new text mentions `names`: answers pointing
        into it, and those of symbols elsewhere with those names for `operations`, stop
        counting (tracker.staleness).

        `names` may be a function returning them, or None for "nothing changed after all":
        it then runs on the writer thread (finding the names of a large text is work the
        caller's thread must not do; proxy/mentions.py) — or a `moves.Edited`: then the
        rows move through the edit's line map (`translate`) instead."""
        if not callable(names):
            self._put(staleness.rearm_op(uri, names, operations))
            return
        staleness.check_operations(operations)
        find = names

        def build() -> Op:
            found = find()
            if isinstance(found, moves.Edited):
                return moves.translate_op(
                    uri, found.old_version, found.new_version, found.line_map, found.names,
                    operations, self._clock(), found.redo, found.members,
                )  # fmt: skip
            return () if found is None else staleness.rearm_op(uri, found, operations)

        self._put(build)  # type: ignore[arg-type]

    def translate(
        self,
        uri: str,
        old_version: str,
        new_version: str,
        line_map: moves.LineMap,
        names: Collection[str],
        operations: Collection[str],
        redo: Collection[str] = (),
        members: Collection[str] = (),
    ) -> None:
        """The document went from content `old_version` to `new_version` through `line_map`:
        its rows and the answers pointing into it move instead of going stale (only those on
        touched lines or in the map's holes go), then the name rule for `names` runs for
        symbols elsewhere (and for `members` of classes named: tracker/moves.py); the
        document's own kept symbols are asked `redo` again. Replaces `rearm` for an edit
        whose texts before and after are both known."""
        self._put(
            moves.translate_op(
                uri,
                old_version,
                new_version,
                line_map,
                names,
                operations,
                self._clock(),
                redo,
                members,
            )
        )

    def _put(self, op: Op) -> None:
        if not op or self._closed or self._fatal is not None:
            return  # nothing to write, or nobody drains the queue (closed / fatal, logged)
        pending = self._queue
        if len(pending) >= self._queue_size:
            self.dropped += 1
            if not self._warned_full:
                self._warned_full = True
                logger.warning(
                    "graph database %s: write queue full (%d); dropping writes",
                    self.path,
                    self._queue_size,
                )
            return
        with self._lock:  # uncontended but for flush() and the writer's count: cheap
            self._enqueued += 1
        pending.append(op)
        if self._sleeping:  # read after the append: see _gather
            self._wake.set()

    def _put_control(self, item: object) -> None:
        """A query or the stop marker: never dropped, and the writer acts on it at once."""
        self._queue.append(item)
        self._urgent.set()
        self._wake.set()

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        batch: list[Op] = []
        barrier: object = None
        pause = _MIN_PAUSE
        while not self._abandon.is_set():
            if self._conn is None and not self._open():
                if self._fatal is not None:
                    break
                self._abandon.wait(pause)
                pause = min(pause * 2, _MAX_PAUSE)
                continue
            if not batch and barrier is None:
                barrier = self._gather(batch)
            if batch:
                if not self._commit(batch):
                    self._abandon.wait(pause)
                    pause = min(pause * 2, _MAX_PAUSE)
                    continue
                pause = _MIN_PAUSE
                with self._lock:
                    self._done += len(batch)
                    self._lock.notify_all()
                batch = []
            if barrier is _STOP:
                break
            if isinstance(barrier, _Query):
                self._answer(barrier)
            barrier = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        with self._lock:
            self._lock.notify_all()

    def _gather(self, batch: list[Op]) -> object:
        """Fill ``batch`` with queued writes; return a query or stop marker that ends it."""
        pending = self._queue
        while not pending:
            # Announce the sleep, then look again: a put either lands before that second
            # look (no sleep) or sees _sleeping and wakes us. No put is ever missed.
            self._sleeping = True
            if not pending:
                self._wake.wait()
            self._sleeping = False
            self._wake.clear()
        # Group commit: a write rarely comes alone, and one transaction for many is far
        # cheaper than many small ones. Let more gather for a moment — puts meanwhile wake
        # nobody; a query or the stop marker cuts the pause short.
        if not self._urgent.is_set():
            self._urgent.wait(_GROUP_SECONDS)
        self._urgent.clear()
        while pending and len(batch) < _BATCH:
            item = pending.popleft()
            if item is _STOP or isinstance(item, _Query):
                return item
            if callable(item):  # a deferred put: its rows are built here, off the caller
                try:
                    item = item()
                except Exception as exc:  # a builder bug must not wedge the writer
                    logger.error("graph database %s: dropping a write: %s", self.path, exc)
                    item = ()
            batch.append(item)  # type: ignore[arg-type]
        return None

    def _open(self) -> bool:
        try:
            self._conn = open_connection(
                self.path, create=True, busy_timeout=self._busy_timeout, same_thread=True
            )
        except StoreError as exc:
            logger.error("graph database: %s; nothing will be recorded", exc)
            self._fatal = exc
        except (sqlite3.Error, OSError) as exc:
            self._trouble(exc)
        self._opened.set()
        return self._conn is not None

    def _commit(self, batch: list[Op]) -> bool:
        conn = self._conn
        assert conn is not None
        try:
            sql.commit_batch(conn, batch)
        except sqlite3.OperationalError as exc:  # locked, busy, full, read-only, I/O
            self._trouble(exc)
            return False
        except Exception as exc:
            # A constraint the checks in put_* missed, or a corrupt file: retrying would wedge
            # the writer, so these writes are lost (logged once).
            if not self._warned_bad:
                self._warned_bad = True
                logger.error("graph database %s: dropping writes: %s", self.path, exc)
            return True
        if self._troubled:
            self._troubled = False
            logger.warning("graph database %s: writing again", self.path)
        return True

    def _trouble(self, exc: BaseException) -> None:
        if not self._troubled:
            self._troubled = True
            what = "keeping writes and retrying"
            if self._conn is None:  # locked or being migrated by another process at start
                what += "; stored failure states apply once it opens"
            logger.warning("graph database %s unavailable (%s); %s", self.path, exc, what)

    def _answer(self, request: _Query) -> None:
        assert self._conn is not None
        try:
            request.result = request.fn(self._conn)
        except BaseException as exc:  # handed to the caller of query()
            request.error = exc
        if request.callback is not None:
            if request.error is not None:
                logger.error("graph database %s: a read failed: %s", self.path, request.error)
            else:
                try:
                    request.callback(request.result)
                except Exception as exc:  # the caller's bug must not stop the writer
                    logger.error("graph database %s: a read's callback failed: %s", self.path, exc)
        request.done.set()
