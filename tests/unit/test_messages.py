"""Classification by id and method only; the large-body fast path agrees with the decoder."""

from __future__ import annotations

import json

import pytest

from lsp_backoff.proxy.messages import Kind, Peek, peek, peek_head

PAD = "x" * 10_000


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "a/b", "params": PAD}, Peek(Kind.REQUEST, 1, "a/b")),
        (
            {"jsonrpc": "2.0", "id": "s-1", "method": "m", "params": PAD},
            Peek(Kind.REQUEST, "s-1", "m"),
        ),
        ({"jsonrpc": "2.0", "id": -7, "result": PAD}, Peek(Kind.RESPONSE, -7)),
        ({"jsonrpc": "2.0", "id": 3, "error": {"code": 1, "message": PAD}}, Peek(Kind.RESPONSE, 3)),
        # Other key orders take the decoder's path and must give the same answers.
        ({"jsonrpc": "2.0", "method": "n", "params": PAD, "id": 4}, Peek(Kind.REQUEST, 4, "n")),
        ({"jsonrpc": "2.0", "method": "n", "params": PAD}, Peek(Kind.NOTIFICATION, None, "n")),
        (
            {"id": 'q"uote', "jsonrpc": "2.0", "method": "é", "params": PAD},
            Peek(Kind.REQUEST, 'q"uote', "é"),
        ),
        (
            {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": PAD}},
            Peek(Kind.RESPONSE, None),
        ),
    ],
)
@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_peek(message: dict, expected: Peek, size: str, separators: tuple[str, str]) -> None:
    if size == "small":
        message = {k: ("" if v == PAD else v) for k, v in message.items()}
    body = json.dumps(message, separators=separators, ensure_ascii=False).encode()
    assert peek(body) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"jsonrpc":"2.0","id":12,"method":"a/b","params":', Peek(Kind.REQUEST, 12, "a/b")),
        (b'{"id": "x", "jsonrpc": "2.0", "result": ', Peek(Kind.RESPONSE, "x")),
        (b'{ "jsonrpc" : "2.0" , "id" : -3 , "error" : ', Peek(Kind.RESPONSE, -3)),
        (b'{"jsonrpc":"2.0","method":"n","params":', None),  # a notification: id may follow
        (b'{"jsonrpc":"2.0","id":1,"method":"a\\u00e9"', None),  # an escape: decoder's job
    ],
)
def test_peek_head_reads_only_the_usual_openings(head: bytes, expected: Peek | None) -> None:
    assert peek_head(head) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1,2]",
        b'{"id":true,"method":"x"}',
        b'{"method":5}',
        b"\xff\xfe{}",
        b"{}",
        b"",
    ],
)
def test_anything_else_is_other(body: bytes) -> None:
    assert peek(body).kind is Kind.OTHER
