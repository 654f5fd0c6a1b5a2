"""Hostile LSP bodies, by kind, from a seeded random generator (stdlib only).

Shared by the fuzz suite's client side (tests/fuzz/) and the server that sends them
(sends_hostile.py). Every body is framed correctly — framing faults are tested apart — but its
content is something a careless or broken peer might send: nesting thousands of levels deep,
numbers too large for any machine type, invalid UTF-8, duplicate keys, fields of the wrong type,
not JSON at all. Ids of hostile requests and responses start with "h-" (or are numbers at least
10**9), so they never collide with the valid requests they are interleaved with; no body is a
well-formed `exit`, `shutdown`, `initialize`, `$/cancelRequest` or `lspBackoff/*` message (the
proxy acts on those by design).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

#: Methods a hostile body may name: tracked ones (the proxy decodes them), document sync, and
#: made-up ones.
METHODS = (
    "textDocument/definition",
    "textDocument/references",
    "callHierarchy/incomingCalls",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/documentSymbol",
    "$/progress",
    "experimental/serverStatus",
    "hostile/x",
)
HOSTILE_URI = "file:///nonexistent/hostile.py"  # never a valid request's document


def _deep(rng: random.Random) -> str:
    depth = rng.choice([600, 2_000, 10_000, rng.randint(513, 20_000)])
    style = rng.randrange(4)
    if style == 0:
        return "[" * depth + "]" * depth
    if style == 1:
        return '{"a":' * depth + "1" + "}" * depth
    if style == 2:  # mixed, with siblings at every level
        return '[1,{"k":' * depth + "null" + "}]" * depth
    return '["]",' * depth + "0" + "]" * depth  # closing brackets inside strings at each level


def _envelope(rng: random.Random, value: str, where: str) -> str:
    ident = json.dumps(f"h-{rng.getrandbits(32):x}")
    method = json.dumps(rng.choice(METHODS))
    if where == "params":
        return f'{{"jsonrpc":"2.0","id":{ident},"method":{method},"params":{value}}}'
    if where == "notification":
        return f'{{"jsonrpc":"2.0","method":{method},"params":{value}}}'
    if where == "result":
        return f'{{"jsonrpc":"2.0","id":{ident},"result":{value}}}'
    if where == "first":  # the deep value before id and method: no fast path can see them
        return f'{{"params":{value},"method":{method},"id":{ident},"jsonrpc":"2.0"}}'
    return f'{{"jsonrpc":"2.0","id":{value},"method":{method}}}'  # the id itself is deep


def deep_nesting(rng: random.Random) -> bytes:
    where = rng.choice(["params", "notification", "result", "first", "id"])
    return _envelope(rng, _deep(rng), where).encode()


def huge_number(rng: random.Random) -> bytes:
    number = rng.choice(
        [
            "1" + "0" * rng.randint(20, 6000),
            "-" + "9" * rng.randint(19, 400),
            f"1e{rng.randint(309, 99999)}",
            f"-1.5e-{rng.randint(400, 99999)}",
            "0." + "3" * rng.randint(100, 3000),
            str(2**64 + rng.getrandbits(16)),
        ]
    )
    where = rng.choice(["params", "result", "id", "notification"])
    if where == "id":  # the id itself: the proxy must not crash classifying or answering it
        return f'{{"jsonrpc":"2.0","id":{number},"method":"hostile/x"}}'.encode()
    return _envelope(
        rng, f'{{"n":{number},"position":{{"line":{number},"character":0}}}}', where
    ).encode()


def invalid_utf8(rng: random.Random) -> bytes:
    junk = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80\x80"])
    where = rng.randrange(4)
    ident = f"h-{rng.getrandbits(32):x}".encode()
    if where == 0:
        return b'{"jsonrpc":"2.0","id":"' + ident + junk + b'","method":"hostile/x"}'
    if where == 1:
        return (
            b'{"jsonrpc":"2.0","id":"' + ident + b'","method":"textDocument/defini' + junk + b'"}'
        )
    if where == 2:
        text = b"x" * rng.choice([10, 5000, 70_000]) + junk
        return (
            b'{"jsonrpc":"2.0","id":"' + ident + b'","method":"hostile/x","params":"' + text + b'"}'
        )
    return b'{"jsonrpc":"2.0","method":"$/progress","params":{"token":"' + junk + b'"}}'


def lone_surrogate(rng: random.Random) -> bytes:
    escape = rng.choice(["\\ud800", "\\udfff", "\\ud83d", "\\ud83d\\u0041"])
    ident = f"h-{rng.getrandbits(32):x}"
    return (
        f'{{"jsonrpc":"2.0","id":"{ident}{escape}","method":"textDocument/definition",'
        f'"params":{{"textDocument":{{"uri":"{HOSTILE_URI}{escape}"}},'
        f'"position":{{"line":0,"character":1}}}}}}'
    ).encode()


def duplicate_keys(rng: random.Random) -> bytes:
    a, b = (f'"h-{rng.getrandbits(32):x}"' for _ in range(2))
    return rng.choice(
        [
            f'{{"jsonrpc":"2.0","id":{a},"method":"hostile/x","id":{b}}}',
            f'{{"jsonrpc":"2.0","id":{a},"method":"hostile/x","method":"textDocument/definition",'
            f'"params":{{"textDocument":{{"uri":"{HOSTILE_URI}"}},"position":{{"line":0,'
            f'"character":0}},"position":{{"line":"x"}}}}}}',
            f'{{"jsonrpc":"2.0","id":{a},"result":null,"error":{{"code":1,"message":"both"}}}}',
            '{"jsonrpc":"2.0","jsonrpc":"1.0","method":"hostile/x","params":[],"params":{}}',
        ]
    ).encode()


def wrong_types(rng: random.Random) -> bytes:
    ident = f'"h-{rng.getrandbits(32):x}"'
    tracked = rng.choice(METHODS[:3])
    return rng.choice(
        [
            f'{{"jsonrpc":"2.0","id":true,"method":"{tracked}"}}',
            f'{{"jsonrpc":"2.0","id":1.5,"method":"{tracked}"}}',
            '{"jsonrpc":"2.0","id":{"x":1},"method":"hostile/x"}',
            f'{{"jsonrpc":"2.0","id":{ident},"method":5}}',
            f'{{"jsonrpc":"2.0","id":{ident},"method":null,"params":1}}',
            f'{{"jsonrpc":2,"id":{ident},"method":"{tracked}","params":"not an object"}}',
            f'{{"jsonrpc":"2.0","id":{ident},"method":"{tracked}","params":{{"textDocument":7,'
            f'"position":[1,2]}}}}',
            f'{{"jsonrpc":"2.0","id":{ident},"method":"{tracked}","params":{{"textDocument":'
            f'{{"uri":"{HOSTILE_URI}"}},"position":{{"line":-5,"character":"x"}}}}}}',
            f'{{"jsonrpc":"2.0","id":{ident},"method":"callHierarchy/incomingCalls",'
            f'"params":{{"item":"nope"}}}}',
            '{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":'
            f'{{"uri":"{HOSTILE_URI}","version":"v"}},"contentChanges":[{{"range":5,"text":7}}]}}}}',
            '{"jsonrpc":"2.0","method":"$/progress","params":{"token":[1],"value":{"kind":5}}}',
            '{"jsonrpc":"2.0","method":"$/progress","params":{"token":{"t":1},"value":{"kind":"end"}}}',
            '{"jsonrpc":"2.0","method":"$/progress","params":{"token":[2],"value":{"kind":"begin"}}}',
            '{"jsonrpc":"2.0","method":"experimental/serverStatus","params":{"quiescent":"no"}}',
            '{"jsonrpc":"2.0","method":"$/cancelRequest","params":"h-not-an-object"}',
            '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":{"h":1}}}',
            f'{{"jsonrpc":"2.0","id":{ident},"result":{{"contents":5}},"error":"x"}}',
            f'{{"jsonrpc":"2.0","id":{10**9 + rng.getrandbits(20)},"result":[{{"uri":5}}]}}',
        ]
    ).encode()


def not_json(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            b"null",
            b"[]",
            b'[{"jsonrpc":"2.0","id":"h-batch","method":"hostile/x"}]',
            b'"just a string"',
            b"{",
            b'{"jsonrpc":"2.0","id":"h-trailing","method":"hostile/x"} trailing',
            b"{'single': 'quotes'}",
            b"\x00\x01\x02",
            bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))),
            b"{" * rng.randint(1000, 50_000),  # unbalanced and deep
            b"]" * rng.randint(1000, 5000),
        ]
    )


KINDS: dict[str, Callable[[random.Random], bytes]] = {
    "deep nesting": deep_nesting,
    "huge number": huge_number,
    "invalid UTF-8": invalid_utf8,
    "lone surrogate escape": lone_surrogate,
    "duplicate keys": duplicate_keys,
    "wrong field types": wrong_types,
    "not JSON / not an object": not_json,
}


def hostile(rng: random.Random) -> tuple[str, bytes]:
    """One hostile body and the name of its kind."""
    kind = rng.choice(list(KINDS))
    return kind, KINDS[kind](rng)


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
