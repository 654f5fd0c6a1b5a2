"""A server's fault told apart from a symbol's (tracker/faults.py, outcomes.watched_failure):
the rule, the undo of what the run charged, and the per-symbol contract left as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.routing import Router
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker, Verdict
from lsp_backoff.tracker.faults import THRESHOLD, FaultWatch, Ruling
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target

URI = "file:///ws/a.py"
NAMES = [f"name{i}" for i in range(12)]
TEXT = "".join(f"{name} = 1\n" for name in NAMES)
POISON = "Request textDocument/references failed with message: this._token.cancel is not a function"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sink:
    def __init__(self) -> None:
        self.rows: list[tuple[str, Any]] = []

    def put_document(self, uri: str, version: str) -> None:
        pass

    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None:
        pass

    def put_edges(
        self, symbol: SymbolRef, operation: str, targets: Callable[[], list[Target]]
    ) -> None:
        self.rows.append(("edges", symbol.name))

    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None:
        self.rows.append((kind, symbol.name))

    def put_failure(self, state: FailureState) -> None:
        self.rows.append(("failure", (state.symbol, state.failures)))

    def clear_failure(self, symbol: str, operation: str) -> None:
        self.rows.append(("cleared", symbol))

    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None:
        self.rows.append(("withdrawn", (symbol, kind)))

    def rearm(self, uri: str, names: object, operations: object) -> None:
        pass

    def of(self, kind: str) -> list[Any]:
        return [row for k, row in self.rows if k == kind]


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def make(max_retries: int = 7) -> tuple[Router, Sink, Clock, FailureTracker]:
    clock = Clock()
    tracker = FailureTracker(BackoffPolicy(base=5, max_retries=max_retries), clock=clock)
    sink = Sink()
    router = Router(Core(ProxyConfig(no_db=True), tracker=tracker, sink=sink), timeout=30)
    item = {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}
    router.from_client(framed({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                               "params": {"textDocument": item}}))  # fmt: skip
    router.drain()
    return router, sink, clock, tracker


ids = iter(range(1, 10_000))


def ask(router: Router, name: str, **answer: Any) -> list[Any] | None:
    """One references request at ``name``, answered with ``answer`` (result= or error=)."""
    ident = next(ids)
    params = {"textDocument": {"uri": URI}, "position": {"line": NAMES.index(name), "character": 1},
              "context": {"includeDeclaration": True}}  # fmt: skip
    actions = router.from_client(
        framed(
            {"jsonrpc": "2.0", "id": ident, "method": "textDocument/references", "params": params}
        )
    )
    if actions is not None and len(actions) == 1:  # answered by the proxy (short-circuit)
        return actions
    router.from_server(framed({"jsonrpc": "2.0", "id": ident, **answer}))
    router.drain()
    return None


def poison() -> dict[str, Any]:
    return {"error": {"code": -32603, "message": POISON}}


def key(name: str) -> str:
    return f"{URI}#{NAMES.index(name)}:0:{name}"


def test_the_rule_needs_distinct_subjects_in_a_row_with_one_error() -> None:
    watch: FaultWatch[str] = FaultWatch(threshold=3)
    assert watch.charged("refs", "a", "E", "undo a") == []
    assert watch.charged("refs", "a", "E", "again") == []  # the same subject: not a second one
    assert watch.charged("refs", "b", "E", "undo b") == []
    assert watch.charged("other", "c", "E", "x") == []  # another operation: its own run
    assert watch.charged("refs", "c", "E", "undo c") == ["undo a", "undo b", "undo c"]
    assert watch.at_fault() == {"refs": "E"}
    assert watch.failed("refs", "E") is Ruling.SPARE
    assert watch.failed("refs", "F") is Ruling.CHARGE  # another error is a symbol's
    assert watch.answered("refs") == "E"  # an answer: the method works again
    assert watch.failed("refs", "E") is Ruling.CHARGE
    # A different error or an answer between breaks a run.
    watch.charged("refs", "a", "E", "1")
    watch.charged("refs", "b", "F", "2")
    assert watch.charged("refs", "c", "E", "3") == []
    watch.charged("refs", "d", "E", "4")
    watch.answered("refs")
    assert watch.charged("refs", "e", "E", "5") == []
    with pytest.raises(ValueError):
        FaultWatch(threshold=1)


def test_a_server_wide_error_charges_no_symbol_and_undoes_what_the_run_charged() -> None:
    router, sink, _, tracker = make(max_retries=0)  # a failure skips: placeholders too
    ask(router, "name0", result=[{"uri": URI, "range": {}}])
    for name in NAMES[:THRESHOLD]:
        ask(router, name, **poison())
    assert router.counters["server_faults"] == 1
    assert all(tracker.get(key(n), "references") is None for n in NAMES)
    assert sink.of("withdrawn") == [(key(n), "error") for n in NAMES[:THRESHOLD]]
    assert sink.of("cleared") == [key(n) for n in NAMES[:THRESHOLD]]
    # Meanwhile: forwarded, nothing charged, nothing short-circuited.
    for name in NAMES:
        assert ask(router, name, **poison()) is None
    assert all(tracker.get(key(n), "references") is None for n in NAMES)
    assert router.counters["short_circuited"] == 0 and router.counters["server_faults"] == 1
    # A symbol's own error is still charged during the fault.
    ask(router, "name11", error={"code": -32603, "message": "cannot resolve name11"})
    assert tracker.check(key("name11"), URI, "references") is Verdict.SKIPPED
    # An answer ends the fault: the same error is a symbol's again (a new run starts).
    ask(router, "name1", result=[{"uri": URI, "range": {}}])
    ask(router, "name2", **poison())
    assert tracker.check(key("name2"), URI, "references") is Verdict.SKIPPED


def test_a_symbol_charged_before_the_run_gets_its_earlier_state_back() -> None:
    router, sink, clock, tracker = make()
    ask(router, "name0", error={"code": -32603, "message": "its own"})
    before = tracker.get(key("name0"), "references")
    assert before is not None and before.failures == 1
    clock.now += 5
    for name in NAMES[:THRESHOLD]:
        ask(router, name, **poison())
    assert tracker.get(key("name0"), "references") == before
    # In the store too: the last failure row written for it is its earlier one.
    assert [row for row in sink.of("failure") if row[0] == key("name0")][-1] == (key("name0"), 1)


def test_one_symbol_failing_alone_keeps_the_whole_contract() -> None:
    """5 → 320 s, 7 retries, then skipped — the same error every time: one symbol is no run."""
    router, _, clock, tracker = make()
    delays = []
    for attempt in range(8):
        assert ask(router, "name3", **poison()) is None  # reached the server
        state = tracker.get(key("name3"), "references")
        assert state is not None
        if attempt < 7:
            delays.append(state.retry_at - clock.now)
            assert ask(router, "name3") is not None  # short-circuited meanwhile
            clock.now = state.retry_at
        ask(router, "name4", result=[{"uri": URI, "range": {}}])  # others succeed between
    assert delays == [5, 10, 20, 40, 80, 160, 320]
    assert tracker.check(key("name3"), URI, "references") is Verdict.SKIPPED
    assert router.counters["server_faults"] == 0


def test_fewer_symbols_than_the_threshold_in_a_row_are_each_charged() -> None:
    router, _, _, tracker = make()
    for name in NAMES[: THRESHOLD - 1]:
        ask(router, name, **poison())
    ask(router, "name11", result=[{"uri": URI, "range": {}}])
    for name in NAMES[THRESHOLD - 1 : 2 * THRESHOLD - 2]:
        ask(router, name, **poison())
    charged = [n for n in NAMES if tracker.get(key(n), "references") is not None]
    assert charged == NAMES[: 2 * THRESHOLD - 2]
    assert router.counters["server_faults"] == 0


def test_a_fault_is_announced_once_and_a_new_server_is_judged_afresh() -> None:
    watch: FaultWatch[str] = FaultWatch(threshold=2)
    heard: list[tuple[str, str]] = []
    watch.on_fault = lambda operation, signature: heard.append((operation, signature))
    watch.charged("refs", "a", "E", "1")
    watch.charged("refs", "b", "E", "2")
    assert heard == [("refs", "E")]
    assert watch.failed("refs", "E") is Ruling.SPARE  # spared: no run, no second announcement
    watch.reset()
    assert watch.at_fault() == {} and watch.failed("refs", "E") is Ruling.CHARGE
    watch.charged("refs", "c", "E", "3")
    watch.charged("refs", "d", "E", "4")
    assert heard == [("refs", "E"), ("refs", "E")]
