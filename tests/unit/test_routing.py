"""The decision table, without processes: frames in, actions out, outcomes recorded."""

from __future__ import annotations

import json
from typing import Any

from fakes import FakeSink as Sink

from lsp_backoff.proxy.actions import Action, Arm, Disarm, Flush, Read, ToClient, ToServer
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import ERROR_WINDOW_SECONDS, ERRORS_LOGGED_PER_WINDOW, Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.reads import GONE, Loaded
from lsp_backoff.proxy.routing import Router
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.model import Target

CONFIG = ProxyConfig(no_db=True)
URI = "file:///ws/a.py"
TEXT = "def bad_fn(): pass\ngood = bad_fn()\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(max_retries: int = 7) -> tuple[Router, Sink, Clock]:
    clock = Clock()
    tracker = FailureTracker(BackoffPolicy(base=5, max_retries=max_retries), clock=clock)
    docs = Documents()
    sink = Sink()
    router = Router(Core(CONFIG, tracker=tracker, sink=sink), docs, timeout=30)
    router.from_client(note("textDocument/didOpen", {"textDocument": {"uri": URI, "text": TEXT}}))
    router.drain()
    return router, sink, clock


def text(content: str | None) -> Loaded:
    """What the read gate hands back for a file with ``content`` (None: no file)."""
    return Loaded(content, None)


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def note(method: str, params: Any) -> Frame:
    return framed({"jsonrpc": "2.0", "method": method, "params": params})


def request(ident: Any, method: str, line: int = 0, character: int = 5) -> Frame:
    params = {"textDocument": {"uri": URI}, "position": {"line": line, "character": character}}
    return framed({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})


def reply(ident: Any, **fields: Any) -> Frame:
    return framed({"jsonrpc": "2.0", "id": ident, **fields})


def body(action: Action) -> dict[str, Any]:
    assert isinstance(action, ToClient | ToServer)
    (item,) = FrameParser().feed(action.data)
    assert isinstance(item, Frame)
    return json.loads(item.body)


def fail(router: Router, ident: int, code: int = -32603) -> None:
    req = request(ident, "textDocument/definition")
    assert router.from_client(req) == [ToServer(req.raw), Arm(ident)]
    resp = reply(ident, error={"code": code, "message": "nope"})
    assert router.from_server(resp) == [ToClient(resp.raw), Disarm(ident)]
    router.drain()


def test_untracked_messages_are_forwarded_as_they_are() -> None:
    router, _, _ = make()
    assert (
        router.from_client(framed({"jsonrpc": "2.0", "id": 9, "method": "textDocument/hover"}))
        is None
    )
    assert router.from_server(reply(9, result=None)) is None
    assert router.from_server(framed({"jsonrpc": "2.0", "method": "custom/x"})) is None
    assert router.from_client(framed({"id": True})) is None  # not JSON-RPC: forwarded anyway


def test_a_failure_short_circuits_the_next_request_with_null() -> None:
    router, sink, clock = make()
    fail(router, 1)
    actions = router.from_client(request(2, "textDocument/definition", character=7))
    assert actions is not None and isinstance(actions[0], ToClient)
    assert body(actions[0]) == {"jsonrpc": "2.0", "id": 2, "result": None}
    assert sink.of("failure") == [("definition", 1, False)]
    # Another operation on the same symbol is tracked apart.
    refs = request(3, "textDocument/references")
    assert router.from_client(refs) == [ToServer(refs.raw), Arm(3)]
    # After the window the server is asked again.
    clock.now += 5
    again = request(4, "textDocument/definition")
    assert router.from_client(again) == [ToServer(again.raw), Arm(4)]
    assert router.counters["short_circuited"] == 1


def test_cancel_for_a_locally_answered_request_is_swallowed() -> None:
    router, _, _ = make()
    fail(router, 1)
    router.from_client(request(2, "textDocument/definition"))
    assert router.from_client(note("$/cancelRequest", {"id": 2})) == []
    assert router.from_client(note("$/cancelRequest", {"id": 77})) is None


def test_transient_errors_never_skip() -> None:
    router, sink, clock = make(max_retries=1)
    for i in range(10):
        fail(router, i, code=-32801)
        clock.now += 5
    assert all(not skipped for _, _, skipped in sink.of("failure"))
    assert sink.of("error") == []


def test_skip_for_good_writes_an_error_placeholder() -> None:
    router, sink, clock = make(max_retries=1)
    fail(router, 1)
    clock.now += 5
    fail(router, 2)
    assert sink.of("error") == [("bad_fn", "definition")]
    clock.now += 10_000
    actions = router.from_client(request(3, "textDocument/definition"))
    assert actions is not None and body(actions[0])["result"] is None


def test_an_edit_re_arms_the_document() -> None:
    router, _, _ = make()
    fail(router, 1)
    change = {
        "textDocument": {"uri": URI, "version": 2},
        "contentChanges": [{"text": TEXT + "#\n"}],
    }
    router.from_client(note("textDocument/didChange", change))
    req = request(2, "textDocument/definition")
    assert router.from_client(req) == [ToServer(req.raw), Arm(2)]


def test_success_records_edges_and_clears() -> None:
    router, sink, _ = make()
    req = request(1, "textDocument/definition", line=1, character=9)
    router.from_client(req)
    loc = {
        "uri": URI,
        "range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 10}},
    }
    router.from_server(reply(1, result=[loc]))
    router.drain()
    assert sink.of("edges") == [("bad_fn", "definition", [Target(URI, 0, 4)])]


def test_timeout_answers_the_client_cancels_at_the_server_and_drops_the_late_answer() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    to_client, to_server = router.timed_out(1)
    assert body(to_client)["error"]["code"] == -32803
    assert "timed out" in body(to_client)["error"]["message"]
    assert body(to_server) == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}}
    assert router.from_server(reply(1, result=None)) == []
    assert sink.of("failure") == [("definition", 1, False)]


def test_client_cancel_is_not_a_failure() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(note("$/cancelRequest", {"id": 1}))
    router.from_server(reply(1, error={"code": -32800, "message": "cancelled"}))
    router.drain()
    assert sink.of("failure") == []


def test_server_exit_fails_every_pending_request() -> None:
    router, _, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(framed({"jsonrpc": "2.0", "id": "h", "method": "textDocument/hover"}))
    actions = router.server_exited(3)
    errors = [body(a) for a in actions if isinstance(a, ToClient)]
    assert {e["id"] for e in errors} == {1, "h"}
    assert all(e["error"]["code"] == -32803 and "status 3" in e["error"]["message"] for e in errors)
    assert router.server_exited(3) == []


def test_empty_while_busy_is_transient_and_after_readiness_definitive() -> None:
    router, sink, _ = make()
    progress = {"token": "t", "value": {"kind": "begin", "title": "indexing"}}
    router.from_server(note("$/progress", progress))
    router.from_client(request(1, "textDocument/references"))
    router.from_server(reply(1, result=[]))
    router.drain()
    assert sink.of("none") == []
    router.from_server(note("$/progress", {"token": "t", "value": {"kind": "end"}}))
    router.drain()
    router.from_client(request(2, "textDocument/implementation"))
    router.from_server(reply(2, result=None))
    router.drain()
    assert sink.of("none") == [("bad_fn", "implementation")]


def test_empty_prepare_call_hierarchy_also_settles_calls() -> None:
    router, sink, _ = make()
    router.from_server(note("experimental/serverStatus", {"quiescent": True, "health": "ok"}))
    router.from_client(request(1, "textDocument/prepareCallHierarchy"))
    router.from_server(reply(1, result=None))
    router.drain()
    ops = [op for _, op in sink.of("none")]
    assert ops == ["prepare_call_hierarchy", "incoming_calls", "outgoing_calls"]


def test_document_symbols_are_recorded() -> None:
    router, sink, _ = make()
    params = {"textDocument": {"uri": URI}}
    router.from_client(
        framed(
            {"jsonrpc": "2.0", "id": 5, "method": "textDocument/documentSymbol", "params": params}
        )
    )
    sel = {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 10}}
    router.from_server(
        reply(5, result=[{"name": "bad_fn", "kind": 12, "range": sel, "selectionRange": sel}])
    )
    router.drain()
    assert ("bad_fn", "document_symbol") in sink.of("symbol")


def test_proxy_private_requests_are_answered_locally() -> None:
    router, _, _ = make()
    flush = router.from_client(framed({"jsonrpc": "2.0", "id": 1, "method": "lspBackoff/flush"}))
    assert flush == [Flush(1)]
    (stats,) = (
        router.from_client(framed({"jsonrpc": "2.0", "id": 2, "method": "lspBackoff/stats"})) or []
    )
    assert set(body(stats)["result"]) >= {"forwarded", "short_circuited", "timeouts", "skipped"}


def test_large_frames_stream_only_when_the_proxy_needs_nothing_from_them() -> None:
    router, _, _ = make()
    head = b'{"jsonrpc":"2.0","id":%s,"method":"%s","params":'
    assert router.client_head(head % (b"7", b"custom/upload"))
    entry = router.requests.get(7)  # streamed, and still in the request table …
    assert entry is not None and entry.method == "custom/upload"
    assert not router.client_head(head % (b"8", b"textDocument/definition"))
    assert not router.client_head(head % (b"9", b"textDocument/documentSymbol"))
    assert not router.client_head(b'{"jsonrpc":"2.0","method":"textDocument/didOpen"')
    # Server side: an answer to a plain request streams; to a tracked one it does not.
    assert router.server_head(b'{"jsonrpc":"2.0","id":7,"result":')
    assert 7 not in router.requests
    router.from_client(request(10, "textDocument/references"))
    assert not router.server_head(b'{"jsonrpc":"2.0","id":10,"result":')
    router.timed_out(10)
    assert not router.server_head(b'{"jsonrpc":"2.0","id":10,"result":')  # to be dropped


def test_a_tracked_request_s_timer_lives_in_its_table_entry() -> None:
    # The request table is the one map from ids: Arm and Disarm name the entry that holds
    # the timer, the same entry from the forward to the answer.
    router, _, _ = make()
    req = request(1, "textDocument/definition")
    _, arm = router.from_client(req) or []
    assert isinstance(arm, Arm) and arm.entry is router.requests.get(1)
    resp = reply(1, result=None)
    answered = router.from_server(resp) or []
    disarm = answered[1]
    assert isinstance(disarm, Disarm) and disarm.entry is arm.entry
    assert 1 not in router.requests


def test_a_streamed_request_is_failed_when_the_server_dies() -> None:
    router, _, _ = make()
    assert router.client_head(b'{"jsonrpc":"2.0","id":7,"method":"custom/upload","params":')
    # … so when the server exits before answering, the client gets an error for it.
    answers = [body(a) for a in router.server_exited(1) if isinstance(a, ToClient)]
    assert [a["id"] for a in answers] == [7], answers
    assert answers[0]["error"]["code"] == -32803  # RequestFailed (LSP 3.17)


def test_method_not_found_is_not_backed_off_but_noted_in_the_graph() -> None:
    router, sink, _ = make()
    fail(router, 1, code=-32601)
    assert sink.of("error") == [("bad_fn", "definition")]
    assert sink.of("failure") == []
    again = request(2, "textDocument/definition")
    assert router.from_client(again) == [ToServer(again.raw), Arm(2)]


def test_stats_include_answers_already_forwarded() -> None:
    router, _, _ = make()
    req = request(1, "textDocument/definition")
    router.from_client(req)
    router.from_server(reply(1, error={"code": -32801, "message": "modified"}))
    # No drain in between: the stats request itself must see the transient failure.
    (stats,) = (
        router.from_client(framed({"jsonrpc": "2.0", "id": 2, "method": "lspBackoff/stats"})) or []
    )
    assert body(stats)["result"]["transient"] == 1


def test_an_empty_answer_during_its_own_progress_is_not_transient() -> None:
    router, sink, _ = make()
    router.from_server(note("$/progress", {"token": "load", "value": {"kind": "begin"}}))
    router.from_server(note("$/progress", {"token": "load", "value": {"kind": "end"}}))
    router.from_client(request(1, "textDocument/references"))
    # The server reports progress for this very request and answers before ending it.
    router.from_server(note("$/progress", {"token": "refs", "value": {"kind": "begin"}}))
    router.from_server(reply(1, result=[]))
    router.drain()
    assert sink.of("none") == [("bad_fn", "references")]
    assert sink.of("failure") == []


def test_closing_with_unsaved_edits_re_arms(tmp_path: Any) -> None:
    router, _, _ = make()
    fail(router, 1)
    router.from_client(note("textDocument/didClose", {"textDocument": {"uri": URI}}))
    req = request(2, "textDocument/definition")
    # The open text is gone: the request waits for the read the close asked for (off the
    # loop), which starts with it …
    assert router.from_client(req) == [Read(URI)]
    assert router.wanted_reads() == []
    # … and no file backs it: not the content the failure was about.
    assert router.loaded(URI, text(None)) == [ToServer(req.raw), Arm(2)]


def test_closing_a_document_saved_as_it_is_on_disk_keeps_the_backoff(tmp_path: Any) -> None:
    path = tmp_path / "a.py"
    path.write_text(TEXT)
    router, _, _ = make()
    uri = path.as_uri()
    router.from_client(note("textDocument/didOpen", {"textDocument": {"uri": uri, "text": TEXT}}))
    params = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}
    req = framed({"jsonrpc": "2.0", "id": 1, "method": "textDocument/definition", "params": params})
    router.from_client(req)
    router.from_server(reply(1, error={"code": -32603, "message": "nope"}))
    router.from_client(note("textDocument/didClose", {"textDocument": {"uri": uri}}))
    again = framed(
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/definition", "params": params}
    )
    # Waits for the read the close asked for, which starts with it.
    assert router.from_client(again) == [Read(uri)]
    actions = router.loaded(uri, router.reads.read(uri))
    assert len(actions) == 1 and body(actions[0])["result"] is None


def test_a_cancelled_request_that_times_out_or_dies_records_nothing() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(note("$/cancelRequest", {"id": 1}))
    (to_client, _) = router.timed_out(1)
    assert body(to_client)["error"]["code"] == -32803  # the client still gets its answer
    router.from_client(request(2, "textDocument/references"))
    router.from_client(note("$/cancelRequest", {"id": 2}))
    assert len(router.server_exited(1)) == 2
    assert sink.of("failure") == [] and router.counters["failures"] == 0


def test_a_later_call_hierarchy_item_withdraws_the_inferred_call_placeholders() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/prepareCallHierarchy"))
    sel = {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 10}}
    item = {"name": "bad_fn", "kind": 12, "uri": URI, "range": sel, "selectionRange": sel}
    router.from_server(reply(1, result=[item]))
    router.drain()
    withdrawn = [op for op, kind, prefix in sink.of("withdrawn") if kind == "none"]
    assert withdrawn == ["incoming_calls", "outgoing_calls"]
    # What is withdrawn is exactly what the rule writes after an empty prepare.
    router.from_server(note("experimental/serverStatus", {"quiescent": True}))
    router.from_client(request(2, "textDocument/prepareCallHierarchy", line=1, character=8))
    router.from_server(reply(2, result=None))
    router.drain()
    prefix = sink.of("withdrawn")[0][2]
    written = [d for op, d in sink.details if op in ("incoming_calls", "outgoing_calls")]
    assert len(written) == 2 and all(d.startswith(prefix) for d in written)


# -- documents that are neither open nor cached: read off the loop -------------------------
DISK = "file:///ws/unopened.py"
DISK_TEXT = "x = 1\ndef bad_disk(): pass\n"


def disk_request(ident: Any, method: str = "textDocument/definition") -> Frame:
    params = {"textDocument": {"uri": DISK}, "position": {"line": 1, "character": 6}}
    return framed({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})


def test_a_request_on_an_unread_file_waits_for_one_read_then_is_decided_in_order() -> None:
    router, _, _ = make()
    first, second = disk_request(1), disk_request(2, "textDocument/references")
    assert router.from_client(first) == [Read(DISK)]
    assert router.from_client(second) == []  # the same file: one read serves both
    assert router.from_client(note("custom/other", {})) is None  # the rest flows on
    assert router.loaded(DISK, text(DISK_TEXT)) == [
        ToServer(first.raw),
        Arm(1),
        ToServer(second.raw),
        Arm(2),
    ]
    assert router.requests.get(1).symbol.key == f"{DISK}#1:4:bad_disk"  # type: ignore[union-attr]
    # Cached now, but not trusted: a later request waits for a check of the file (issue 28),
    # which finds it the same — decided from the cached text.
    third = disk_request(3, "textDocument/typeDefinition")
    assert router.from_client(third) == [Read(DISK)]
    assert router.loaded(DISK, Loaded(None, None, same=True)) == [ToServer(third.raw), Arm(3)]
    assert router.requests.get(3).symbol.key == f"{DISK}#1:4:bad_disk"  # type: ignore[union-attr]


def test_a_backed_off_symbol_of_an_unread_file_is_short_circuited_once_read() -> None:
    router, _, _ = make()
    router.from_client(disk_request(1))
    router.loaded(DISK, text(DISK_TEXT))
    router.from_server(reply(1, error={"code": -32603, "message": "nope"}))
    router.drain()
    router.documents.file_changed(DISK)  # evicted: the next request needs a read again
    assert router.from_client(disk_request(2)) == [Read(DISK)]
    (answer,) = router.loaded(DISK, text(DISK_TEXT))
    assert isinstance(answer, ToClient) and body(answer) == {
        "jsonrpc": "2.0",
        "id": 2,
        "result": None,
    }


def test_a_file_changed_on_disk_without_an_event_is_re_armed_before_the_next_key() -> None:
    """Issue 28: no watched-files event ever comes; the check before the next request finds
    the file changed, the failure keyed from the old text is re-armed, the store learns the
    new content, and the request is keyed from the new text."""
    router, sink, _ = make()
    router.from_client(disk_request(1))
    router.loaded(DISK, text(DISK_TEXT))
    router.from_server(reply(1, error={"code": -32603, "message": "nope"}))
    router.drain()
    assert sink.of("cleared") == []
    second = disk_request(2)
    assert router.from_client(second) == [Read(DISK)]  # checked first: nothing keyed yet
    moved = "x = 1\ndef bad_moved(): pass\n"
    assert router.loaded(DISK, text(moved)) == [ToServer(second.raw), Arm(2)]
    assert router.requests.get(2).symbol.key == f"{DISK}#1:4:bad_moved"  # type: ignore[union-attr]
    assert sink.of("cleared") == ["definition"]  # what the stale text learnt is re-armed
    assert sink.rows.count(("document", DISK)) == 2  # the first text's hash, then the new one


def test_a_file_deleted_on_disk_without_an_event_leaves_the_graph() -> None:
    router, sink, _ = make()
    router.from_client(disk_request(1))
    router.loaded(DISK, text(DISK_TEXT))
    router.from_server(reply(1, result=[]))
    router.drain()
    second = disk_request(2)
    assert router.from_client(second) == [Read(DISK)]
    assert router.loaded(DISK, GONE) == [ToServer(second.raw), Arm(2)]
    assert sink.of("forgotten") == [DISK]
    assert router.requests.get(2).symbol.key == f"{DISK}#1:6"  # type: ignore[union-attr]


def test_a_request_cancelled_while_waiting_is_answered_by_the_proxy() -> None:
    router, sink, _ = make()
    router.from_client(disk_request(1))
    assert router.from_client(note("$/cancelRequest", {"id": 1})) == []  # never sent: kept
    (answer,) = router.loaded(DISK, text(DISK_TEXT))
    assert body(answer)["error"]["code"] == -32800
    assert 1 not in router.requests
    assert sink.of("failure") == []


def test_requests_waiting_for_a_read_fail_when_the_server_exits() -> None:
    router, _, _ = make()
    router.from_client(disk_request(1))
    (failed,) = router.server_exited(3)
    assert body(failed)["error"]["code"] == -32803
    assert "before textDocument/definition was sent" in body(failed)["error"]["message"]
    assert router.loaded(DISK, text(DISK_TEXT)) == []  # the read finishing late changes nothing


def test_a_missing_file_is_decided_by_position_and_not_read_again_at_once() -> None:
    clock = Clock()
    docs = Documents(clock=clock)
    tracker = FailureTracker(BackoffPolicy(base=5), clock=clock)
    router = Router(Core(CONFIG, tracker=tracker, sink=Sink()), docs)
    req = disk_request(1)
    assert router.from_client(req) == [Read(DISK)]
    assert router.loaded(DISK, text(None)) == [ToServer(req.raw), Arm(1)]
    assert router.requests.get(1).symbol.key == f"{DISK}#1:6"  # type: ignore[union-attr]
    assert not docs.needs_read(DISK)  # believed missing for a moment …
    clock.now += Documents.MISSING_SECONDS + 1
    assert docs.needs_read(DISK)  # … then a file created since would be seen


def test_symbols_of_an_unread_file_are_recorded_once_it_is_read() -> None:
    router, sink, _ = make()
    params = {"textDocument": {"uri": DISK}}
    symbols = framed(
        {"jsonrpc": "2.0", "id": 5, "method": "textDocument/documentSymbol", "params": params}
    )
    assert router.from_client(symbols) is None  # untracked: forwarded at once
    held = disk_request(6)
    assert router.from_client(held) == [Read(DISK)]
    sel = {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 12}}
    answer = reply(
        5, result=[{"name": "bad_disk", "kind": 12, "range": sel, "selectionRange": sel}]
    )
    # The answer goes to the client at once; the read already under way serves its recording.
    assert router.from_server(answer) == [ToClient(answer.raw)]
    router.drain()
    assert sink.of("symbol") == []
    router.loaded(DISK, text(DISK_TEXT))
    router.drain()
    assert ("bad_disk", "document_symbol") in sink.of("symbol")


def test_a_symbol_list_alone_asks_for_its_file_to_be_read() -> None:
    router, _, _ = make()
    params = {"textDocument": {"uri": DISK}}
    router.from_client(
        framed(
            {"jsonrpc": "2.0", "id": 5, "method": "textDocument/documentSymbol", "params": params}
        )
    )
    answer = reply(5, result=[])
    assert router.from_server(answer) == [ToClient(answer.raw), Read(DISK)]
    assert router.loaded(DISK, text(DISK_TEXT)) == []


def test_closing_unsaved_edits_of_a_file_not_read_compares_once_it_is_read(
    tmp_path: Any,
) -> None:
    path = tmp_path / "a.py"
    path.write_text("def bad_fn(): pass\n# saved long ago\n")
    router, sink, _ = make()
    uri = path.as_uri()
    router.from_client(note("textDocument/didOpen", {"textDocument": {"uri": uri, "text": TEXT}}))
    params = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}
    router.from_client(
        framed({"jsonrpc": "2.0", "id": 1, "method": "textDocument/definition", "params": params})
    )
    router.from_server(reply(1, error={"code": -32603, "message": "nope"}))
    router.from_client(note("textDocument/didClose", {"textDocument": {"uri": uri}}))
    router.drain()
    assert sink.of("cleared") == []  # nothing read yet, nothing decided yet
    assert router.wanted_reads() == [Read(uri)]
    assert router.wanted_reads() == []  # asked once
    assert router.loaded(uri, router.reads.read(uri)) == []
    router.drain()
    assert sink.of("cleared") == ["definition"]  # the disk differs from the edits: re-armed


def test_saving_a_file_that_is_not_open_compares_after_an_off_loop_read(tmp_path: Any) -> None:
    path = tmp_path / "b.py"
    path.write_text("def bad_fn(): pass\n")
    router, sink, _ = make()
    uri = path.as_uri()
    params = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}
    router.from_client(
        framed({"jsonrpc": "2.0", "id": 1, "method": "textDocument/definition", "params": params})
    )
    router.loaded(uri, router.reads.read(uri))  # the request waited for this read
    router.from_server(reply(1, error={"code": -32603, "message": "nope"}))
    router.drain()
    path.write_text("def bad_fn(): pass\n# edited elsewhere\n")
    router.from_client(note("textDocument/didSave", {"textDocument": {"uri": uri}}))
    router.drain()
    assert sink.of("cleared") == []  # not decided before the file is read …
    assert router.wanted_reads() == [Read(uri)]
    router.loaded(uri, router.reads.read(uri))
    router.drain()
    assert sink.of("cleared") == ["definition"]  # … then re-armed: the file changed


def test_a_fault_deciding_a_held_request_forwards_it_and_the_others_still_go(
    monkeypatch: Any,
) -> None:
    router, _, _ = make()
    first, second = disk_request(1), disk_request(2, "textDocument/references")
    router.from_client(first)
    router.from_client(second)
    decide = router._decide

    def faulty(entry: Any) -> Any:
        if entry.msg_id == 1:
            raise ValueError("a bug")
        return decide(entry)

    monkeypatch.setattr(router, "_decide", faulty)
    actions = router.loaded(DISK, text(DISK_TEXT))
    assert actions == [ToServer(first.raw), ToServer(second.raw), Arm(2)]
    assert router.counters["internal_errors"] == 1


def test_internal_errors_are_counted_all_and_logged_a_bounded_number_of_times(
    caplog: Any,
) -> None:
    clock = Clock()
    core = Core(CONFIG, sink=Sink(), clock=clock)
    for _ in range(1000):
        core.internal_error("on a test frame", RecursionError("deep"))
    lines = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(lines) == ERRORS_LOGGED_PER_WINDOW
    assert core.counters["internal_errors"] == 1000
    clock.now += ERROR_WINDOW_SECONDS  # a new window: what was not logged is said once
    core.internal_error("on a test frame", RecursionError("deep"))
    lines = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(lines) == ERRORS_LOGGED_PER_WINDOW + 2
    assert lines[-2] == "990 more internal errors were not logged"


def test_a_cancel_naming_no_request_id_is_forwarded() -> None:
    router, _, _ = make()
    assert router.from_client(note("$/cancelRequest", {"id": [1, 2]})) is None
    assert router.from_client(note("$/cancelRequest", {"id": {"x": 1}})) is None
