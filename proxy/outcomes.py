"""Apply what a tracked request taught us to the failure tracker and the graph store.

The sink is anything with the ``GraphStore`` ``put_*`` methods; they only enqueue, so nothing
here waits on the database.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from proxy.documents import Documents, symbol_key
from proxy.readiness import Readiness
from proxy.recording import SYMBOL_LISTS, is_empty, listed_symbols, targets
from tracker.failures import EmptyOutcome, FailureTracker
from tracker.model import FailureState, SymbolRef, Target

#: No call hierarchy item means there are no calls to ask about (CONTRACTS: call hierarchy).
_FOLLOWS_PREPARE = ("incoming_calls", "outgoing_calls")


class Sink(Protocol):
    def put_document(self, uri: str, version: str) -> None: ...
    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None: ...
    def put_edges(self, symbol: SymbolRef, operation: str, targets: list[Target]) -> None: ...
    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None: ...
    def put_failure(self, state: FailureState) -> None: ...


class Outcomes:
    def __init__(self, tracker: FailureTracker, sink: Sink, documents: Documents) -> None:
        self.tracker = tracker
        self.sink = sink
        self.documents = documents

    def failure(self, symbol: SymbolRef, operation: str, reason: str, transient: bool) -> None:
        state = self.tracker.record_failure(
            symbol.key,
            symbol.document,
            operation,
            reason,
            transient=transient,
            version=symbol.version,
        )
        self.sink.put_symbols([symbol], "request")
        self.sink.put_failure(state)
        if state.skipped:
            self._placeholder(symbol, operation, "error", state.last_error)

    def answer(self, symbol: SymbolRef, operation: str, result: Any, readiness: Readiness) -> None:
        self.sink.put_symbols([symbol], "request")
        if not is_empty(result):
            self.tracker.record_success(symbol.key, symbol.document, operation)
            self.sink.put_edges(symbol, operation, targets(operation, result))
            return
        outcome = self.tracker.record_empty(
            symbol.key,
            symbol.document,
            operation,
            busy=readiness.busy,
            ready=readiness.ready,
            version=symbol.version,
        )
        if outcome is EmptyOutcome.DEFINITIVE:
            self._placeholder(symbol, operation, "none", "")
            return
        state = self.tracker.get(symbol.key, operation)
        if state is not None:
            self.sink.put_failure(dataclasses.replace(state))

    def _placeholder(self, symbol: SymbolRef, operation: str, kind: str, detail: str) -> None:
        self.sink.put_placeholder(symbol, operation, kind, detail)
        if operation == "prepare_call_hierarchy":
            for follower in _FOLLOWS_PREPARE:
                self.sink.put_placeholder(symbol, follower, kind, detail)

    def symbols(self, method: str, params: Any, result: Any) -> None:
        uri = None
        if isinstance(params, dict) and isinstance(params.get("textDocument"), dict):
            uri = params["textDocument"].get("uri")
        lines: dict[str, list[str]] = {}

        def make(uri: str, line: int, character: int, name: str, kind: int | None) -> SymbolRef:
            # SymbolInformation gives the whole declaration's range: find the name on its
            # first line, so the key is the one a request at the name would get.
            if uri not in lines:
                text = self.documents.text(uri) if uri.startswith("file:") else None
                lines[uri] = text.splitlines() if text is not None else []
            doc_lines = lines[uri]
            if line < len(doc_lines):
                found = doc_lines[line].find(name, character)
                if found >= 0 and doc_lines[line][:found].isascii():
                    character = found
            version = self.documents.version(uri) if doc_lines else None
            key = symbol_key(uri, line, character, name)
            return SymbolRef(key, uri, name, line, character, kind, version)

        found = listed_symbols(result, uri if isinstance(uri, str) else None, make)
        if found:
            self.sink.put_symbols(found, SYMBOL_LISTS[method])

    def document_changed(self, uri: str, version: str | None) -> None:
        if version is not None:
            self.sink.put_document(uri, version)
