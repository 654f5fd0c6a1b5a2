"""Deep nesting never reaches a recursive decoder; peek still classifies such a body (issue 10)."""

from __future__ import annotations

import json

import pytest

from lsp_backoff.proxy.messages import Kind, Peek, decode, peek, peek_head
from lsp_backoff.proxy.nesting import MAX_DEPTH, deeper_than, shallow_copy, structure


def nested(depth: int, opener: str = "[") -> str:
    closer = {"[": "]", "{": "}"}[opener]
    inner = '{"a":' if opener == "{" else "["
    return (inner * depth) + "1" + (closer * depth) if opener == "{" else "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
@pytest.mark.parametrize("opener", ["[", "{"])
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            '{"jsonrpc":"2.0","id":1,"method":"textDocument/definition","params":%s}',
            Peek(Kind.REQUEST, 1, "textDocument/definition"),
        ),
        # Keys after the deep value, and a string id: the head fast path cannot see them.
        ('{"params":%s,"method":"m","jsonrpc":"2.0","id":"x"}', Peek(Kind.REQUEST, "x", "m")),
        (
            '{"jsonrpc":"2.0","method":"$/progress","params":%s}',
            Peek(Kind.NOTIFICATION, None, "$/progress"),
        ),
        ('{"result":%s,"jsonrpc":"2.0","id":7}', Peek(Kind.RESPONSE, 7)),
        ('{"jsonrpc":"2.0","id":%s,"method":"m"}', Peek(Kind.OTHER)),  # an id that is a container
        ("%s", Peek(Kind.OTHER)),  # not an object
    ],
)
def test_a_deep_body_is_classified_without_recursion(
    depth: int, opener: str, template: str, expected: Peek
) -> None:
    body = (template % nested(depth, opener)).encode()
    assert deeper_than(body)
    assert peek(body) == expected
    assert decode(body) is None


def test_shallow_bodies_decode_as_before() -> None:
    for depth in (1, 10, MAX_DEPTH // 2):
        body = b'{"jsonrpc":"2.0","id":3,"result":%s}' % nested(depth, "{").encode()
        assert not deeper_than(body)
        assert decode(body) == json.loads(body)
        assert peek(body) == Peek(Kind.RESPONSE, 3)


def test_brackets_inside_strings_do_not_count_either_way() -> None:
    # Thousands of brackets in a string: shallow. Closing brackets in strings must not hide a
    # real nesting either (each level holds the string "]").
    text = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "[{" * 5000 + '\\"]'}).encode()
    assert not deeper_than(text)
    assert decode(text) is not None
    hidden = b'{"id":1,"result":' + b'["]",' * 5000 + b"0" + b"]" * 5000 + b"}"
    assert deeper_than(hidden)
    assert peek(hidden) == Peek(Kind.RESPONSE, 1)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a":"x\\\\","b":["["]}', b"{[]}"),  # an escaped backslash ends the string
        (b'{"a":"x\\"[","b":[]}', b"{[]}"),  # an escaped quote does not
        (b'{"":[],"":{},"[":"}"}', b"{[]{}}"),
    ],
)
def test_structure_follows_json_strings(body: bytes, expected: bytes) -> None:
    assert structure(body) == expected


def test_shallow_copy_keeps_the_top_level_byte_for_byte() -> None:
    body = b'{ "id" : 5 , "params": [[1, {"x": "]"}]], "method":"a\\u00e9", "r": {"k": [2]} }'
    assert shallow_copy(body) == b'{ "id" : 5 , "params": [], "method":"a\\u00e9", "r": {} }'
    assert shallow_copy(b'[{"id":1}]') == b""
    assert shallow_copy(b'{"id":1,"p":[[]}') == b""  # unbalanced
    assert shallow_copy(b'{"id":1}]') == b""


@pytest.mark.parametrize(
    "head",
    [
        b'{"jsonrpc":"2.0","id":"\xff\xfe","method":"m","params":',
        b'{"jsonrpc":"2.0","id":1,"method":"\xc3","params":',
    ],
)
def test_invalid_utf8_in_the_head_is_a_verdict_not_an_exception(head: bytes) -> None:
    assert peek_head(head) is None
    assert peek(head + b'"' + b"x" * 10_000 + b'"}').kind is Kind.OTHER


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # didOpen of a source file: thousands of brackets inside the text, no id anywhere.
        (
            b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"text":"'
            + b"x = [a[i] for i in {1: 2}]\\n" * 500
            + b'"}}',
            Peek(Kind.NOTIFICATION, None, "textDocument/didOpen"),
        ),
        # An id after the params: the head alone cannot tell, the decoder does.
        (
            b'{"jsonrpc":"2.0","method":"m","params":"' + b"x" * 5000 + b'","id":3}',
            Peek(Kind.REQUEST, 3, "m"),
        ),
        (
            b'{"jsonrpc":"2.0","method":"m","params":"' + b"x" * 5000 + b'","\\u0069d":3}',
            Peek(Kind.REQUEST, 3, "m"),
        ),
    ],
)
def test_large_notifications_are_read_from_their_head(body: bytes, expected: Peek) -> None:
    assert peek(body) == expected
