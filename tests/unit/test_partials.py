"""Partial results (issue 25): the routing decisions about a tracked request with a
``partialResultToken`` and the ``$/progress`` pieces streamed under it, without processes."""

from __future__ import annotations

from typing import Any

import pytest
from test_routing import DISK, DISK_TEXT, URI, body, framed, make, note, reply, text

from lsp_backoff.proxy import partials
from lsp_backoff.proxy.actions import Arm, Disarm, Read, ToClient, ToServer
from lsp_backoff.proxy.framing import Frame
from lsp_backoff.tracker.model import Target


def refs(ident: Any, token: Any = None, character: int = 5) -> Frame:
    params: dict[str, Any] = {
        "textDocument": {"uri": URI},
        "position": {"line": 0, "character": character},
        "context": {"includeDeclaration": True},
    }
    if token is not None:
        params["partialResultToken"] = token
    return framed(
        {"jsonrpc": "2.0", "id": ident, "method": "textDocument/references", "params": params}
    )


def loc(line: int) -> dict[str, Any]:
    start = {"line": line, "character": 0}
    return {"uri": URI, "range": {"start": start, "end": start}}


def piece(token: Any, *lines: int) -> Frame:
    return note("$/progress", {"token": token, "value": [loc(n) for n in lines]})


def targets(*lines: int) -> list[Target]:
    return [Target(URI, n, 0) for n in lines]


def test_pieces_are_forwarded_untouched_and_recorded_with_the_final_answer() -> None:
    router, sink, _ = make()
    request = refs(1, "tok")
    assert router.from_client(request) == [ToServer(request.raw), Arm(1)]
    for frame in (piece("tok", 1), piece("tok", 2, 3)):
        assert router.from_server(frame) is None  # None: the frame goes on byte for byte
    final = reply(1, result=[loc(4)])  # the spec wants [] here; what comes is added all the same
    assert router.from_server(final) == [ToClient(final.raw), Disarm(1)]
    router.drain()
    assert sink.of("edges") == [("bad_fn", "references", targets(1, 2, 3, 4))]
    assert sink.of("none") == [] and len(router.partials) == 0


def test_nothing_streamed_and_an_empty_answer_is_an_empty_answer() -> None:
    router, sink, _ = make()
    router.from_server(note("$/progress", {"token": "load", "value": {"kind": "begin"}}))
    router.from_server(note("$/progress", {"token": "load", "value": {"kind": "end"}}))
    router.from_client(refs(1, "tok"))
    router.from_server(reply(1, result=[]))
    router.drain()
    assert sink.of("none") == [("bad_fn", "references")] and sink.of("edges") == []


def test_identical_requests_with_tokens_are_never_coalesced() -> None:
    router, _, _ = make()
    sent = [refs(1, "a"), refs(2, "b"), refs(3, "b")]  # 3: a token reused while 2 runs
    for frame in sent:
        assert router.from_client(frame) == [ToServer(frame.raw), Arm(frame_id(frame))]
    # Without a token, the same question still follows the first one asked.
    assert router.from_client(refs(4)) != [] and router.from_client(refs(5)) == []
    assert router.counters["coalesced"] == 1


def frame_id(frame: Frame) -> Any:
    return body(ToServer(frame.raw))["id"]


def test_a_token_used_by_two_requests_in_flight_teaches_no_result() -> None:
    router, sink, _ = make()
    router.from_server(note("$/progress", {"token": "load", "value": {"kind": "end"}}))
    router.from_client(refs(1, "same"))
    router.from_client(refs(2, "same", character=6))
    router.from_server(piece("same", 1))  # whose?
    router.from_server(reply(1, result=[]))
    router.from_server(reply(2, error={"code": -32603, "message": "nope"}))
    router.drain()
    assert sink.of("edges") == [] and sink.of("none") == []
    assert sink.of("failure") == [("references", 1, False)]  # an error is the request's own


def test_after_an_error_the_pieces_are_not_used() -> None:
    router, sink, _ = make()
    router.from_client(refs(1, "tok"))
    router.from_server(piece("tok", 1))
    router.from_server(reply(1, error={"code": -32603, "message": "nope"}))
    router.drain()
    assert sink.of("edges") == [] and sink.of("failure") == [("references", 1, False)]


def test_a_client_cancel_mid_stream_records_nothing_even_if_the_server_answers() -> None:
    router, sink, _ = make()
    router.from_client(refs(1, "tok"))
    router.from_server(piece("tok", 1))
    assert router.from_client(note("$/cancelRequest", {"id": 1})) is None  # to the server
    router.from_server(piece("tok", 2))
    router.from_server(reply(1, result=[]))  # a server that did not stop
    router.drain()
    assert sink.rows == [row for row in sink.rows if row[0] == "document"]


def test_a_piece_after_the_answer_or_a_timeout_is_ignored_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="lsp_backoff.routing")
    router, sink, _ = make()
    router.from_client(refs(1, "tok"))
    router.from_server(piece("tok", 1))
    router.from_server(reply(1, result=[]))
    router.from_server(piece("tok", 2))
    router.from_client(refs(2, "slow", character=6))
    router.from_server(piece("slow", 3))
    router.timed_out(2)
    router.from_server(piece("slow", 4))
    router.drain()
    assert sink.of("edges") == [("bad_fn", "references", targets(1))]
    said = [r.getMessage() for r in caplog.records if "after its answer" in r.getMessage()]
    assert len(said) == 2 and "'tok'" in said[0] and "'slow'" in said[1]
    assert not any(URI in line for line in said)  # no body in the log
    assert len(router.partials) == 0


def test_a_progress_value_is_decoded_only_for_a_request_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router, _, _ = make()
    decoded: list[bytes] = []
    real = partials.decode_value

    def counting(raw: Any) -> Any:
        decoded.append(bytes(raw))
        return real(raw)

    monkeypatch.setattr(partials, "decode_value", counting)
    router.from_server(piece("nobody", 1, 2))  # not a tracked request's: not built
    router.drain()
    assert decoded == []
    router.from_client(refs(1, "tok"))
    router.from_server(piece("tok", 1))
    router.from_server(note("$/progress", {"token": "w", "value": {"kind": "begin"}}))
    router.drain()
    assert len(decoded) == 2  # the piece, and a work-done report (readiness reads it)
    assert router.readiness.busy()


def test_an_untracked_array_in_the_usual_head_is_not_even_scanned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router, sink, _ = make()
    scanned: list[bytes] = []
    real = partials.read_progress

    def counting(body: bytes) -> Any:
        scanned.append(body)
        return real(body)

    monkeypatch.setattr(partials, "read_progress", counting)
    router.from_server(piece("nobody", 1, 2))
    router.drain()
    assert scanned == []
    # Another member order (pygls writes params first): read by the typed decoder, still right.
    router.from_client(refs(1, "tok"))
    other_order = {"params": {"value": [loc(7)], "token": "tok"}, "method": "$/progress"}
    assert router.from_server(framed({**other_order, "jsonrpc": "2.0"})) is None
    router.from_server(piece("tok", 8))  # the usual order, tracked: read too
    router.from_server(reply(1, result=[]))
    router.drain()
    assert len(scanned) == 2
    assert sink.of("edges") == [("bad_fn", "references", targets(7, 8))]


def test_server_exit_ends_every_stream() -> None:
    router, sink, _ = make()
    router.from_client(refs(1, "tok"))
    router.from_server(piece("tok", 1))
    router.server_exited(1)
    assert len(router.partials) == 0 and sink.of("edges") == []


@pytest.mark.parametrize(
    ("params", "token"),
    [
        ({"partialResultToken": "t"}, "t"),
        ({"partialResultToken": 7}, 7),
        ({"partialResultToken": True}, None),
        ({"partialResultToken": ["t"]}, None),
        ({}, None),
        (None, None),
    ],
)
def test_token_of(params: Any, token: Any) -> None:
    assert partials.token_of(params) == token


def test_read_progress_keeps_the_value_unbuilt() -> None:
    found = partials.read_progress(piece("t", 1).body)
    assert found is not None and found[0] == "t" and bytes(found[1]).startswith(b"[")
    assert partials.read_progress(b'{"method": "$/progress", "params": 3}') is None
    assert partials.read_progress(b"[" * 5000 + b"]" * 5000) is None


def symbols_request(ident: Any, uri: str, token: Any) -> Frame:
    params = {"textDocument": {"uri": uri}, "partialResultToken": token}
    return framed(
        {"jsonrpc": "2.0", "id": ident, "method": "textDocument/documentSymbol", "params": params}
    )


def symbol(name: str, line: int, character: int) -> dict[str, Any]:
    sel = {"start": {"line": line, "character": character}, "end": {"line": line, "character": 9}}
    return {"name": name, "kind": 12, "range": sel, "selectionRange": sel}


def test_document_symbols_streamed_in_pieces_are_recorded() -> None:
    router, sink, _ = make()
    assert router.from_client(symbols_request(5, URI, "syms")) is None  # forwarded as it is
    router.from_server(note("$/progress", {"token": "syms", "value": [symbol("bad_fn", 0, 4)]}))
    router.from_server(note("$/progress", {"token": "syms", "value": [symbol("good", 1, 0)]}))
    router.from_server(reply(5, result=[]))
    router.drain()
    assert sink.of("symbol") == [("bad_fn", "document_symbol"), ("good", "document_symbol")]


def test_symbols_of_an_unread_file_are_the_pieces_before_the_answer() -> None:
    router, sink, _ = make()
    router.from_client(symbols_request(5, DISK, "syms"))
    router.from_server(note("$/progress", {"token": "syms", "value": [symbol("bad_disk", 1, 4)]}))
    answer = reply(5, result=[])
    assert router.from_server(answer) == [ToClient(answer.raw), Read(DISK)]
    late = [symbol("good_disk", 2, 0)]
    router.from_server(note("$/progress", {"token": "syms", "value": late}))  # after: ignored
    router.drain()
    router.loaded(DISK, text(DISK_TEXT))
    router.drain()
    assert sink.of("symbol") == [("bad_disk", "document_symbol")]
    assert len(router.partials) == 0
