"""Identical tracked requests in flight are asked once (issue 12 item 3): the request table's
followers, every branch, without processes."""

from __future__ import annotations

import json
from typing import Any

from test_routing import URI, body, framed, make, note, reply, request

from lsp_backoff.proxy.actions import Arm, Disarm, ToClient, ToServer
from lsp_backoff.proxy.coalesce import with_id
from lsp_backoff.proxy.framing import encode


def definition(ident: Any, **extra: Any) -> Any:
    params = {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 5}, **extra}
    return framed(
        {"jsonrpc": "2.0", "id": ident, "method": "textDocument/definition", "params": params}
    )


def test_an_identical_request_follows_and_gets_the_answer_under_its_own_id() -> None:
    router, sink, _ = make()
    first = request(1, "textDocument/definition")
    assert router.from_client(first) == [ToServer(first.raw), Arm(1)]
    # Another position inside the same identifier: the same symbol, but other params.
    assert router.from_client(request(2, "textDocument/definition", character=6)) != []
    assert router.from_client(request(3, "textDocument/definition")) == []  # not sent
    raw = b'{"id": 1, "jsonrpc": "2.0", "result": {"uri": "file:///ws/a.py", "id": 1}}'
    answer = next(
        iter(
            __import__("lsp_backoff.proxy.framing", fromlist=["x"]).FrameParser().feed(encode(raw))
        )
    )
    actions = router.from_server(answer)
    assert actions == [
        ToClient(answer.raw),
        Disarm(1),
        ToClient(
            encode(b'{"id": 3, "jsonrpc": "2.0", "result": {"uri": "file:///ws/a.py", "id": 1}}')
        ),
    ]
    # A cancel arriving after the answer: the server never saw 3, so it is not told.
    assert router.from_client(note("$/cancelRequest", {"id": 3})) == []
    router.drain()
    assert len(sink.of("edges")) == 1  # learnt once
    assert router.counters["coalesced"] == 1 and router.counters["forwarded"] == 2
    assert router.counters["tracked"] == 3
    # Answered: the next identical request is asked again.
    again = request(4, "textDocument/definition")
    assert router.from_client(again) == [ToServer(again.raw), Arm(4)]


def test_other_params_or_another_operation_are_not_the_same_question() -> None:
    router, _, _ = make()
    router.from_client(definition(1))
    assert router.from_client(definition(2, workDoneToken="t")) != []
    assert router.from_client(request(3, "textDocument/references")) != []
    assert router.counters["coalesced"] == 0


def test_a_failure_counts_once_and_every_waiter_gets_it() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(request(2, "textDocument/definition"))
    error = reply(1, error={"code": -32603, "message": "nope"})
    to_leader, _, to_follower = router.from_server(error) or []
    assert body(to_follower) == {**body(to_leader), "id": 2}
    router.drain()
    assert sink.of("failure") == [("definition", 1, False)]
    assert router.counters["failures"] == 1


def test_a_timeout_answers_every_waiter_cancels_once_and_counts_once() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(request(2, "textDocument/definition"))
    *errors, cancel = router.timed_out(1)
    assert [body(e)["id"] for e in errors] == [1, 2]
    assert all(body(e)["error"]["code"] == -32803 for e in errors)
    assert body(cancel) == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}}
    assert sink.of("failure") == [("definition", 1, False)]
    assert router.from_server(reply(1, result=None)) == []  # the late answer is dropped
    assert router.from_client(note("$/cancelRequest", {"id": 2})) == []  # answered already


def test_a_follower_cancelled_is_answered_by_the_proxy_and_the_server_goes_on() -> None:
    router, _, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(request(2, "textDocument/definition"))
    (cancelled,) = router.from_client(note("$/cancelRequest", {"id": 2})) or []
    assert body(cancelled)["id"] == 2 and body(cancelled)["error"]["code"] == -32800
    answer = reply(1, result=None)
    assert router.from_server(answer) == [ToClient(answer.raw), Disarm(1)]  # to 1 only


def test_the_leader_cancelled_while_others_wait_keeps_the_question_alive() -> None:
    router, sink, _ = make()
    router.from_server(note("experimental/serverStatus", {"quiescent": True}))
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(request(2, "textDocument/definition"))
    assert router.from_client(note("$/cancelRequest", {"id": 1})) == []  # not to the server
    actions = router.from_server(reply(1, result=None)) or []
    assert [body(a)["id"] for a in actions if isinstance(a, ToClient)] == [1, 2]
    router.drain()
    assert sink.of("none") == [("bad_fn", "definition")]  # someone waited: it was learnt


def test_the_last_waiter_cancelling_cancels_at_the_server() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(request(2, "textDocument/definition"))
    router.from_client(request(3, "textDocument/definition"))
    assert router.from_client(note("$/cancelRequest", {"id": 1})) == []
    (answer_2,) = router.from_client(note("$/cancelRequest", {"id": 2})) or []
    assert body(answer_2)["error"]["code"] == -32800  # the server heard of neither
    answer_3, cancel = router.from_client(note("$/cancelRequest", {"id": 3})) or []
    assert body(answer_3)["error"]["code"] == -32800
    assert body(cancel) == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}}
    # Nobody waits now: a new identical request is a new question, asked again.
    fresh = request(4, "textDocument/definition")
    assert router.from_client(fresh) == [ToServer(fresh.raw), Arm(4)]
    router.from_server(reply(1, error={"code": -32800, "message": "cancelled"}))
    router.drain()
    assert sink.of("failure") == []


def test_a_server_exit_fails_every_waiter_and_learns_once() -> None:
    router, sink, _ = make()
    router.from_client(request(1, "textDocument/definition"))
    router.from_client(request(2, "textDocument/definition"))
    actions = router.server_exited(3)
    assert sorted(body(a)["id"] for a in actions if isinstance(a, ToClient)) == [1, 2]
    assert [a for a in actions if isinstance(a, Disarm)] == [Disarm(1)]
    assert sink.of("failure") == [("definition", 1, False)]


def test_with_id_changes_the_top_level_id_only() -> None:
    head = b'{"jsonrpc":"2.0","id":17,"result":[{"id":17}]}'
    assert with_id(head, 5) == b'{"jsonrpc":"2.0","id":5,"result":[{"id":17}]}'
    pygls_error = b'{"error": {"code": -1, "message": "x", "id": 1}, "jsonrpc": "2.0", "id": 1}'
    assert with_id(pygls_error, "s") == pygls_error[:-2] + b'"s"}'
    odd = b'{"result": {"id": 1}, "id": 1, "jsonrpc": "2.0"}'  # neither head nor tail
    assert json.loads(with_id(odd, 9)) == {"result": {"id": 1}, "id": 9, "jsonrpc": "2.0"}
    escaped = b'{"id":"a\\"b","result":null}'
    assert with_id(escaped, 2) == b'{"id":2,"result":null}'
