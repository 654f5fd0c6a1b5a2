"""Apply what a tracked request taught us to the failure tracker and the graph store.

The sink is anything with the ``GraphStore`` ``put_*`` methods; they only enqueue, so nothing
here waits on the database.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, Protocol

from cachetools import LRUCache

from lsp_backoff.proxy.documents import Documents, symbol_key
from lsp_backoff.proxy.messages import METHOD_NOT_FOUND, REQUEST_CANCELLED, TRANSIENT_CODES
from lsp_backoff.proxy.operations import CALLS, PREPARE_CALLS, SYMBOL_LISTS
from lsp_backoff.proxy.readiness import Readiness
from lsp_backoff.proxy.recording import is_empty, item_symbol, listed_symbols, targets
from lsp_backoff.tracker.failures import EmptyOutcome, FailureTracker
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target

#: No call hierarchy item means there are no calls to ask about (CONTRACTS: call hierarchy).
_FOLLOWS_PREPARE = tuple(CALLS.values())
_NO_ITEM = "no call hierarchy item"


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


class Outcomes:
    def __init__(self, tracker: FailureTracker, sink: Sink) -> None:
        self.tracker = tracker
        self.sink = sink
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
    ) -> None:
        """A tracked request's answer; ``sent_at`` is the readiness mark when it was sent."""
        self.note_version(symbol.document, symbol.version)
        if not is_empty(result):
            self.tracker.record_success(symbol.key, symbol.document, operation)
            # Extracting targets from a large answer is left to the store's writer thread.
            self.sink.put_edges(symbol, operation, lambda: targets(operation, result))
            if operation == PREPARE_CALLS:
                for follower in _FOLLOWS_PREPARE:
                    # An item exists after all: the calls are to be asked, not inferred.
                    self.sink.withdraw_placeholder(symbol.key, follower, "none", _NO_ITEM)
                self._calls_live_elsewhere(symbol, result)
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

    def _placeholder(self, symbol: SymbolRef, operation: str, kind: str, detail: str) -> None:
        self.sink.put_placeholder(symbol, operation, kind, detail)
        if operation == PREPARE_CALLS:
            for follower in _FOLLOWS_PREPARE:
                self.sink.put_placeholder(symbol, follower, kind, f"{_NO_ITEM} {detail}".rstrip())

    def _calls_live_elsewhere(self, symbol: SymbolRef, items: Any) -> None:
        """Call hierarchy asked at a usage answers with the declaration's item: the calls are
        recorded under the item's key, so the usage itself gets placeholders pointing there
        instead of staying an orphan for ever."""
        keys = []
        for item in items if isinstance(items, list) else []:
            found = item_symbol(item)
            if found is not None:
                keys.append(symbol_key(*found))
        if keys and symbol.key not in keys:
            for follower in _FOLLOWS_PREPARE:
                self.sink.put_placeholder(symbol, follower, "none", f"item: {keys[0]}")

    def symbols(self, method: str, params: Any, result: Any, docs: Documents) -> None:
        """A symbol list's answer; ``docs`` are the asking session's texts (keys need them)."""
        uri = None
        if isinstance(params, dict) and isinstance(params.get("textDocument"), dict):
            uri = params["textDocument"].get("uri")

        def make(uri: str, line: int, character: int, name: str, kind: int | None) -> SymbolRef:
            # Key a listed symbol exactly as a request at its name would be keyed. A
            # workspace/symbol answer may list thousands of files: only documents already
            # in memory are read (no disk reads on the event loop for those).
            if method == "workspace/symbol" and not docs.is_open(uri):
                return SymbolRef(
                    symbol_key(uri, line, character, name), uri, name, line, character, kind
                )
            text = docs.line(uri, line)
            if text is None:
                return SymbolRef(
                    symbol_key(uri, line, character, name), uri, name, line, character, kind
                )
            # SymbolInformation gives the whole declaration's range and names may be
            # qualified (Foo::bar, pkg.mod): look for the last part on the range's first line.
            short = re.split(r"::|\.", name)[-1] or name
            found = text.find(short, character) if short else -1
            if found >= 0 and text[:found].isascii():
                character = found
            key, ident = docs.symbol_at(uri, line, character)
            version = docs.version(uri)
            self.note_version(uri, version)
            return SymbolRef(
                key, uri, ident.name or name, ident.line, ident.character, kind, version
            )

        found = listed_symbols(result, uri if isinstance(uri, str) else None, make)
        if found:
            self.sink.put_symbols(found, SYMBOL_LISTS[method])

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
    ) -> None:
        """What the server's answer to a tracked request teaches (``decoded``: the response)."""
        error = decoded.get("error")
        if cancelled and (error is not None or is_empty(decoded.get("result"))):
            return  # the client gave up on it: whatever the server says now teaches nothing
        if error is None:
            self.answer(symbol, operation, decoded.get("result"), readiness, sent_at)
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
        self.failure(symbol, operation, f"error {code}: {text}", code in TRANSIENT_CODES)
