"""The one test double of the store: what the core asks it to write, recorded, typed.

`FakeSink` stands where `StoreLink` stands (the `Sink` protocol of proxy/outcomes.py); mypy
checks it against that protocol (pyproject's `[tool.mypy] files` lists this module, and the
assignment at the bottom fails the type check the day the protocol changes). Like the real
writer thread it runs the callables it is handed — the edges' targets and the name rule's
names — so a bug in them raises here, where the tests see it, instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from lsp_backoff.proxy.outcomes import Sink
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.moves import Edited


class FakeSink:
    """Records every write in order (`rows`, compact) and by kind (the typed lists)."""

    def __init__(self) -> None:
        #: (kind, compact payload) in call order; `of(kind)` selects one kind.
        self.rows: list[tuple[str, Any]] = []
        self.documents: list[tuple[str, str]] = []
        self.symbols: list[tuple[SymbolRef, str]] = []
        self.edges: list[tuple[SymbolRef, str, list[Target]]] = []
        self.placeholders: list[tuple[SymbolRef, str, str, str]] = []
        self.failures: list[FailureState] = []
        self.forgotten: list[str] = []
        self.rearmed: list[tuple[str, Collection[str] | Edited | None, Collection[str]]] = []

    def put_document(self, uri: str, version: str) -> None:
        self.documents.append((uri, version))
        self.rows.append(("document", uri))

    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None:
        self.symbols.extend((s, source) for s in symbols)
        self.rows.extend(("symbol", (s.name, source)) for s in symbols)

    def put_edges(
        self, symbol: SymbolRef, operation: str, targets: Callable[[], list[Target]]
    ) -> None:
        built = targets()  # the writer thread builds them; so does the fake
        self.edges.append((symbol, operation, built))
        self.rows.append(("edges", (symbol.name, operation, built)))

    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None:
        self.placeholders.append((symbol, operation, kind, detail))
        self.rows.append((kind, (symbol.name, operation)))

    def put_failure(self, state: FailureState) -> None:
        self.failures.append(state)
        self.rows.append(("failure", (state.operation, state.failures, state.skipped)))

    def clear_failure(self, symbol: str, operation: str) -> None:
        self.rows.append(("cleared", operation))

    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None:
        self.rows.append(("withdrawn", (operation, kind, detail_prefix)))

    def forget_document(self, uri: str) -> None:
        self.forgotten.append(uri)
        self.rows.append(("forgotten", uri))

    def rearm(
        self,
        uri: str,
        names: Collection[str] | Callable[[], Collection[str] | Edited | None],
        operations: Collection[str],
    ) -> None:
        scanned = names() if callable(names) else names  # as the writer thread does
        self.rearmed.append((uri, scanned, operations))

    def of(self, kind: str) -> list[Any]:
        """The compact payloads of one kind of write, in order."""
        return [row for k, row in self.rows if k == kind]

    def keys(self, source: str | None = None) -> set[str]:
        """The keys of the symbols written (from one source, e.g. ``document_symbol``)."""
        return {s.key for s, src in self.symbols if source is None or src == source}

    @property
    def details(self) -> list[tuple[str, str]]:
        """(operation, detail) of every placeholder, in order."""
        return [(operation, detail) for _, operation, _, detail in self.placeholders]


_checked: Sink = FakeSink()  # mypy: the fake has every method of the real interface
