"""peek/decode on arbitrary bytes and on hostile JSON: never an exception, the right verdict.

The reference for "the right verdict" is Python's own json module on bodies it reads the same
way msgspec does (ids and numbers in range, no duplicate keys); the depth check is held to the
real thing: whatever it lets through, msgspec decodes without a RecursionError.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import msgspec
from hypothesis import assume, given
from hypothesis import strategies as st

from lsp_backoff.proxy.messages import Kind, Peek, decode, peek
from lsp_backoff.proxy.nesting import MAX_DEPTH, deeper_than, shallow_copy


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def expected_peek(message: Any) -> Peek:
    """What peek must say of a JSON value (msgspec's typed envelope, written out)."""
    if not isinstance(message, dict):
        return Peek(Kind.OTHER)
    ident, method = message.get("id", ...), message.get("method", ...)
    id_ok = ident is ... or ident is None or (
        isinstance(ident, int | str) and not isinstance(ident, bool))  # fmt: skip
    if not id_ok or (method is not ... and not isinstance(method, str)):
        return Peek(Kind.OTHER)
    ident = None if ident is ... else ident
    if isinstance(method, str):
        kind = Kind.REQUEST if ident is not None else Kind.NOTIFICATION
        return Peek(kind, ident, method)
    return Peek(Kind.RESPONSE, ident) if "id" in message else Peek(Kind.OTHER)


TEXT = st.text(st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ["", "[", "]", "{", "}", '"', "\\", '\\"', "é", "😀", "id", "method"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25,
)
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
        "id": st.integers(-(2**63), 2**63) | TEXT | st.none() | JSON,
        "method": st.sampled_from(["textDocument/definition", "$/progress", "x"]) | JSON,
        "params": JSON,
        "result": JSON,
    },
)
SEPARATORS = st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : ")])


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(body: bytes) -> None:
    assert isinstance(peek(body), Peek)
    assert decode(body) is None or isinstance(decode(body), dict)


@given(MESSAGES, SEPARATORS, st.booleans(), st.integers(0, 6000))
def test_peek_and_decode_agree_with_the_json_module(
    message: dict, separators: tuple[str, str], ascii_only: bool, pad: int
) -> None:
    if pad and "params" in message:  # large bodies take the head fast path: same verdict
        message["params"] = ["x" * pad, message["params"]]
    body = json.dumps(message, separators=separators, ensure_ascii=ascii_only).encode()
    assert peek(body) == expected_peek(message)
    assert decode(body) == message


def nest(inner: str, levels: list[int]) -> str:
    """``inner`` wrapped in arrays and objects, one per entry of ``levels``."""
    for kind in levels:
        inner = f"[{inner}]" if kind == 0 else f'{{"k":{inner}}}' if kind == 1 else f'["]",{inner}]'
    return inner


@given(
    st.integers(MAX_DEPTH + 1, 30_000),
    st.lists(st.integers(0, 2), min_size=1, max_size=3),
    st.sampled_from(["params", "result", "first", "id"]),
    st.integers(-(2**40), 2**40) | TEXT,
)
def test_deep_bodies_are_classified_without_recursion(
    levels: int, pattern: list[int], where: str, ident: int | str
) -> None:
    deep = nest("1", (pattern * (levels // len(pattern) + 1))[:levels])
    raw_id = json.dumps(ident)
    body = {
        "params": f'{{"jsonrpc":"2.0","id":{raw_id},"method":"m","params":{deep}}}',
        "result": f'{{"jsonrpc":"2.0","id":{raw_id},"result":{deep}}}',
        "first": f'{{"params":{deep},"method":"m","id":{raw_id}}}',
        "id": f'{{"jsonrpc":"2.0","id":{deep},"method":"m"}}',
    }[where].encode()
    assert deeper_than(body)
    expected = {
        "params": Peek(Kind.REQUEST, ident, "m"),
        "result": Peek(Kind.RESPONSE, ident),
        "first": Peek(Kind.REQUEST, ident, "m"),
        "id": Peek(Kind.OTHER),
    }[where]
    assert peek(body) == expected
    assert decode(body) is None


@given(JSON, st.integers(0, MAX_DEPTH // 2 - 8), SEPARATORS)
def test_bodies_within_half_the_limit_are_never_called_deep(
    value: Any, extra: int, separators: tuple[str, str]
) -> None:
    body = ("[" * extra + json.dumps(value, separators=separators) + "]" * extra).encode()
    assume(depth(json.loads(body)) <= MAX_DEPTH // 2)
    assert not deeper_than(body)


@given(st.binary(max_size=3000).map(lambda b: b.translate(None, b"\r")), st.integers(0, 3))
def test_what_the_depth_check_lets_through_never_recurses_too_deep(raw: bytes, repeat: int) -> None:
    # Bracket-heavy noise: mostly not JSON, often deep before the decoder finds out.
    body = raw.replace(b"a", b"[" * 300).replace(b"b", b'{"":' * 200) * (repeat + 1)
    if not deeper_than(body):
        # Not JSON is fine; a RecursionError would fail the test.
        with contextlib.suppress(msgspec.DecodeError):
            msgspec.json.decode(body)


@given(st.dictionaries(TEXT, JSON, max_size=6), SEPARATORS)
def test_a_shallow_copy_keeps_the_top_level_and_empties_the_rest(
    message: dict, separators: tuple[str, str]
) -> None:
    body = json.dumps(message, separators=separators).encode()
    copy = json.loads(shallow_copy(body))
    emptied = {k: type(v)() if isinstance(v, dict | list) else v for k, v in message.items()}
    assert copy == emptied


HOSTILE_VALUES = st.sampled_from(
    [
        b"1" + b"0" * 5000,  # more digits than msgspec (or Python) reads as an int
        b"-" + b"9" * 40,
        b"1e99999",
        b"-1e-99999",
        b"0." + b"3" * 3000,
        b'"\\ud800"',  # a lone surrogate escape
        b'"\xff\xfe"',  # not UTF-8
        b'"\xed\xa0\x80"',  # an encoded surrogate: not UTF-8 either
        b"true",
        b"[1,2]",
        b'{"a":1}',
        b"1.0",
        b"null",
    ]
)


@given(HOSTILE_VALUES, st.sampled_from(["id", "method", "params", "result", "jsonrpc"]),
       st.booleans(), st.integers(0, 6000))  # fmt: skip
def test_hostile_values_in_any_field_never_raise(
    value: bytes, field: str, duplicate: bool, pad: int
) -> None:
    fields = {"jsonrpc": b'"2.0"', "id": b"7", "method": b'"textDocument/definition"'}
    fields[field] = value
    members = [b'"%s":%s' % (k.encode(), v) for k, v in fields.items()]
    if duplicate:  # the same key twice: last wins, as in msgspec and Python's json
        members.append(b'"%s":%s' % (field.encode(), value))
    if pad:
        members.append(b'"pad":"' + b"x" * pad + b'"')
    body = b"{" + b",".join(members) + b"}"
    result = peek(body)
    assert isinstance(result, Peek)
    decoded = decode(body)
    if decoded is not None and len(body) <= 4096:  # larger: the head fast path, first key wins
        assert result == expected_peek(decoded)
