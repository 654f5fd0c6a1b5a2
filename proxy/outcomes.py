"""Apply what a tracked request taught us to the failure tracker and the graph store.

The sink is anything with the ``GraphStore`` ``put_*`` methods; they only enqueue, so nothing
here waits on the database.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Collection
from typing import Any, Protocol

from cachetools import LRUCache

from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.mentions import Mentions
from lsp_backoff.proxy.messages import METHOD_NOT_FOUND, REQUEST_CANCELLED, TRANSIENT_CODES
from lsp_backoff.proxy.operations import CALLS, PREPARE_CALLS, SYMBOL_LISTS
from lsp_backoff.proxy.readiness import Readiness
from lsp_backoff.proxy.recording import (
    Entry,
    is_empty,
    item_ref,
    item_uri,
    keyed,
    listed_entries,
    targets,
)
from lsp_backoff.proxy.text import Text
from lsp_backoff.proxy.units import GRAPH_UNIT, targets_in_graph_unit
from lsp_backoff.tracker.failures import EmptyOutcome, FailureTracker
from lsp_backoff.tracker.faults import FaultWatch, Ruling
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.moves import Edited

log = logging.getLogger("lsp_backoff.routing")

#: No call hierarchy item means there are no calls to ask about (CONTRACTS: call hierarchy).
_FOLLOWS_PREPARE = tuple(CALLS.values())
_NO_ITEM = "no call hierarchy item"

#: ``later(uri, fn)``: run ``fn`` once the file behind ``uri`` has been read off the loop (a
#: session's read gate, ReadGate.want). Keys come from texts: a document not in memory is
#: keyed once read — without a gate, not at all (never under a server's display name).
Later = Callable[[str, Callable[[], None]], None]

#: What undoes one charge of a run that turns out to be the server's fault: the symbol, its
#: failure state before the run (None: none) and the `error` placeholder's detail when that
#: charge skipped it ("" when it wrote none).
Charge = tuple[SymbolRef, FailureState | None, str]
#: A session's watch over its server's faults (tracker/faults.py), one per server.
Faults = FaultWatch[Charge]


class Sink(Protocol):
    def put_document(self, uri: str, version: str) -> None: ...
    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None: ...
    def put_edges(
        self, symbol: SymbolRef, operation: str, targets: Callable[[], list[Target]]
    ) -> None: ...
    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None: ...
    def put_failure(self, state: FailureState) -> None: ...
    def clear_failure(self, symbol: str, operation: str) -> None: ...
    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None: ...
    def forget_document(self, uri: str) -> None: ...
    def rearm(
        self,
        uri: str,
        names: Collection[str] | Callable[[], Collection[str] | Edited | None],
        operations: Collection[str],
    ) -> None: ...


class Outcomes:
    def __init__(self, tracker: FailureTracker, sink: Sink, *, names: bool = True) -> None:
        self.tracker = tracker
        self.sink = sink
        #: The name rule across files (proxy/mentions.py); None turns it off (`enrich --watch`
        #: applies it itself, from its record of every file's names).
        self.mentions: Mentions | None = Mentions(sink.rearm) if names else None
        # The content hash last told to the store per document: rows are current only while
        # it matches, so every version we attach to a row must have been reported first.
        self._reported: LRUCache[str, str] = LRUCache(maxsize=10_000)

    def note_version(self, uri: str, version: str | None) -> None:
        if version is not None and self._reported.get(uri) != version:
            self._reported[uri] = version
            self.sink.put_document(uri, version)

    def failure(self, symbol: SymbolRef, operation: str, reason: str, transient: bool) -> None:
        self.note_version(symbol.document, symbol.version)
        state = self.tracker.record_failure(
            symbol.key,
            symbol.document,
            operation,
            reason,
            transient=transient,
            version=symbol.version,
        )
        self.sink.put_failure(state)  # skipped too: a restarted proxy must keep skipping
        if state.skipped:
            self._placeholder(symbol, operation, "error", state.last_error)
        else:
            self.sink.put_symbols([symbol], "request")

    def watched_failure(
        self,
        faults: Faults,
        method: str,
        symbol: SymbolRef,
        operation: str,
        reason: str,
        transient: bool,
    ) -> None:
        """An error answer, told apart from a fault of the whole server (tracker/faults.py):
        while ``method`` is at fault with this very error no symbol is charged; the charge
        that makes a run a fault undoes what the run charged (backoff, skips, placeholders)."""
        if faults.failed(operation, reason) is Ruling.SPARE:
            return
        prior = self.tracker.get(symbol.key, operation)
        self.failure(symbol, operation, reason, transient)
        state = self.tracker.get(symbol.key, operation)
        assert state is not None  # just charged
        newly_skipped = state.skipped and not (prior is not None and prior.skipped)
        run = faults.charged(
            operation,
            symbol.key,
            reason,
            (symbol, prior, state.last_error if newly_skipped else ""),
        )
        if not run:
            return
        self.tracker.counters["server_faults"] += 1
        log.warning(
            "server fault: %s failed for %d symbols in a row with the same error (%s); no "
            "symbol is charged for it until the server answers one again (%d charges undone)",
            method,
            len(run),
            state.last_error,
            len(run),
        )
        for ref, before, placed in run:
            self.tracker.put_back(ref.key, operation, before)
            if before is None:
                self.sink.clear_failure(ref.key, operation)
            else:
                self.sink.put_failure(dataclasses.replace(before))
            if placed:
                self.sink.withdraw_placeholder(ref.key, operation, "error", placed)
                if operation == PREPARE_CALLS:
                    for follower in _FOLLOWS_PREPARE:
                        detail = f"{_NO_ITEM} {placed}"
                        self.sink.withdraw_placeholder(ref.key, follower, "error", detail)

    @staticmethod
    def watched_answer(faults: Faults, method: str, operation: str) -> None:
        """An answer of ``method``: it works (again)."""
        ended = faults.answered(operation)
        if ended is not None:
            log.warning("server fault over: %s answers again (it failed with: %s)", method, ended)

    def unsupported(self, symbol: SymbolRef, operation: str, detail: str) -> None:
        self.note_version(symbol.document, symbol.version)
        self._placeholder(symbol, operation, "error", detail)

    def answer(
        self,
        symbol: SymbolRef,
        operation: str,
        result: Any,
        readiness: Readiness,
        sent_at: int | None = None,
        docs: Documents | None = None,
        later: Later | None = None,
    ) -> None:
        """A tracked request's answer; ``sent_at`` is the readiness mark when it was sent;
        ``docs`` and ``later`` are the asking session's texts and read gate (call hierarchy
        items are keyed from them)."""
        self.note_version(symbol.document, symbol.version)
        if not is_empty(result):
            self.tracker.record_success(symbol.key, symbol.document, operation)
            if docs is None or docs.encoding == GRAPH_UNIT:
                # Extracting targets from a large answer is left to the store's writer thread.
                self.sink.put_edges(symbol, operation, lambda: targets(operation, result))
            else:
                found = targets(operation, result)
                self._edges_in_graph_unit(symbol, operation, found, docs, later)
            if operation == PREPARE_CALLS:
                for follower in _FOLLOWS_PREPARE:
                    # An item exists after all: the calls are to be asked, not inferred.
                    self.sink.withdraw_placeholder(symbol.key, follower, "none", _NO_ITEM)
                if docs is not None:
                    self._calls_live_elsewhere(symbol, result, docs, later)
            return
        outcome = self.tracker.record_empty(
            symbol.key,
            symbol.document,
            operation,
            busy=readiness.busy(sent_at),
            ready=readiness.ready(sent_at),
            version=symbol.version,
        )
        if outcome is EmptyOutcome.DEFINITIVE:
            self._placeholder(symbol, operation, "none", "")
            return
        state = self.tracker.get(symbol.key, operation)
        if state is not None:
            self.sink.put_symbols([symbol], "request")
            self.sink.put_failure(dataclasses.replace(state))

    def _edges_in_graph_unit(
        self,
        symbol: SymbolRef,
        operation: str,
        found: list[Target],
        docs: Documents,
        later: Later | None,
    ) -> None:
        """Targets answered by a session on another unit than the graph's (proxy/units.py):
        converted with their documents' texts, the files not in memory read first, off the
        loop, all at once. A text still unknown after that (no file, too large, or evicted
        from the cache meanwhile) keeps its targets as answered: exact on ASCII lines."""
        unread = {t.uri for t in found if docs.needs_read(t.uri)} if later is not None else ()
        if unread:
            assert later is not None
            waiting = [len(unread)]

            def one_read() -> None:
                waiting[0] -= 1
                if waiting[0] == 0:  # once, and no second round of reads
                    self._edges_in_graph_unit(symbol, operation, found, docs, None)

            for uri in unread:
                later(uri, one_read)
            return
        converted = targets_in_graph_unit(found, docs.line, docs.encoding)
        self.sink.put_edges(symbol, operation, lambda: converted)

    def _placeholder(self, symbol: SymbolRef, operation: str, kind: str, detail: str) -> None:
        self.sink.put_placeholder(symbol, operation, kind, detail)
        if operation == PREPARE_CALLS:
            for follower in _FOLLOWS_PREPARE:
                self.sink.put_placeholder(symbol, follower, kind, f"{_NO_ITEM} {detail}".rstrip())

    def _calls_live_elsewhere(
        self, symbol: SymbolRef, items: Any, docs: Documents, later: Later | None
    ) -> None:
        """Call hierarchy asked at a usage answers with the declaration's item: the calls are
        recorded under the item's key, so the usage itself gets placeholders pointing there
        instead of staying an orphan for ever."""
        if not isinstance(items, list):
            return
        items = [item for item in items if isinstance(item, dict)]
        unread = {uri for uri in map(item_uri, items) if uri is not None and docs.needs_read(uri)}
        if unread:
            if later is None:
                return
            # Decided once every one of those files is read or checked — not asked again
            # after each: a file checked first could need a check again by then, and again.
            for uri in unread:
                later(uri, functools.partial(self._item_read, symbol, items, docs, unread, uri))
            return
        self._item_keys(symbol, items, docs)

    def _item_read(
        self, symbol: SymbolRef, items: list[Any], docs: Documents, unread: set[str], uri: str
    ) -> None:
        unread.discard(uri)
        if not unread:
            self._item_keys(symbol, items, docs)

    def _item_keys(self, symbol: SymbolRef, items: list[Any], docs: Documents) -> None:
        refs = (item_ref(docs, item, versioned=False) for item in items)
        keys = [ref.key for ref in refs if ref]
        if keys and symbol.key not in keys:
            for follower in _FOLLOWS_PREPARE:
                self.sink.put_placeholder(symbol, follower, "none", f"item: {keys[0]}")

    def symbols(
        self, method: str, params: Any, result: Any, docs: Documents, later: Later | None = None
    ) -> None:
        """A documentSymbol or workspace/symbol answer: every entry keyed exactly as a request
        at its name would be — from its document's text in ``docs`` (the asking session's),
        read off the loop through ``later`` when not in memory (a workspace/symbol answer may
        list thousands of files)."""
        uri = None
        if isinstance(params, dict) and isinstance(params.get("textDocument"), dict):
            uri = params["textDocument"].get("uri")
        by_document: dict[str, list[Entry]] = {}
        for entry in listed_entries(result, uri if isinstance(uri, str) else None):
            by_document.setdefault(entry[0], []).append(entry)
        source = SYMBOL_LISTS[method]
        for document, entries in by_document.items():
            if not docs.needs_read(document):
                self._listed(entries, source, docs)
            elif later is not None:
                later(document, lambda e=entries: self._listed(e, source, docs))  # type: ignore[misc]

    def _listed(self, entries: list[Entry], source: str, docs: Documents) -> None:
        found = [
            keyed(docs, uri, line, character, label=name, kind=kind, hint=hint, until=until)
            for uri, line, character, name, kind, hint, until in entries
        ]
        for ref in found[:1]:
            self.note_version(ref.document, ref.version)
        if found:
            self.sink.put_symbols(found, source)

    def document_changed(self, uri: str, version: str | None) -> None:
        self.note_version(uri, version)

    def rearm(self, uri: str) -> None:
        """A document's content changed: every symbol of it is asked again next time."""
        for symbol, operation in self.tracker.invalidate(uri):
            # Also in the database: an edit undone later must not revive the old skip.
            self.sink.clear_failure(symbol, operation)

    def response(
        self,
        method: str,
        symbol: SymbolRef,
        operation: str,
        decoded: dict[str, Any],
        readiness: Readiness,
        *,
        sent_at: int | None = None,
        cancelled: bool = False,
        docs: Documents | None = None,
        later: Later | None = None,
        faults: Faults | None = None,
    ) -> None:
        """What the server's answer to a tracked request teaches (``decoded``: the response;
        ``docs``, ``later``: the asking session's texts and read gate, see ``answer``;
        ``faults``: the session's watch over its server's faults, see ``watched_failure``)."""
        error = decoded.get("error")
        if faults is not None and error is None:
            self.watched_answer(faults, method, operation)
        if cancelled and (error is not None or is_empty(decoded.get("result"))):
            return  # the client gave up on it: whatever the server says now teaches nothing
        if error is None:
            result = decoded.get("result")
            self.answer(symbol, operation, result, readiness, sent_at, docs=docs, later=later)
            return
        code = error.get("code") if isinstance(error, dict) else None
        if code == REQUEST_CANCELLED:
            return  # cancelled: by the client, or a server giving way; nothing learnt
        if code == METHOD_NOT_FOUND:
            # The server lacks the whole method (jedi has no implementation): no backoff and
            # no null in its place — the client keeps seeing the server's own error — but the
            # graph notes it, so an indexer stops asking.
            self.unsupported(symbol, operation, f"{method} not supported")
            return
        text = error.get("message", "") if isinstance(error, dict) else str(error)
        reason, transient = f"error {code}: {text}", code in TRANSIENT_CODES
        if faults is None:
            self.failure(symbol, operation, reason, transient)
        else:
            self.watched_failure(faults, method, symbol, operation, reason, transient)

    def mentioned(self, uri: str, before: Text | None, after: Text | None) -> None:
        """The content of `uri` changed from `before` to `after`: the name rule (the names
        are found off this thread, see proxy/mentions.py)."""
        if self.mentions is not None:
            self.mentions.changed(uri, before, after)

    def forget_document(self, uri: str) -> None:
        """The file was deleted: nothing of it stays, in memory or in the graph."""
        self.tracker.invalidate(uri)
        self._reported.pop(uri, None)
        self.sink.forget_document(uri)
