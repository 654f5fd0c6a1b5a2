"""Classify a JSON-RPC body with as little decoding as the routing decision needs.

``peek`` decodes only ``id`` and ``method`` (msgspec skips every other field without building
it), which is all the forwarding path needs for most messages. ``decode`` builds the whole
body, for the few messages the proxy acts on (tracked requests and their responses, document
sync, progress). Neither raises on bad input: a body that is not JSON-RPC is ``Kind.OTHER``
and is forwarded unchanged.

Both decoders recurse once per level of nesting, so a peer could end the session with a body
nested a few thousand levels deep (issue 10). No body nested deeper than ``MAX_DEPTH`` reaches
them: ``peek`` classifies such a body from a copy whose nested containers are emptied (the
top level, where ``id`` and ``method`` live, is kept byte for byte), ``decode`` returns None.
The depth check (``nesting.py``) costs nothing on bodies shorter than ``MAX_DEPTH`` bytes.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from lsp_backoff.proxy.nesting import MAX_DEPTH, deeper_than, shallow_copy

# JSON-RPC / LSP error codes (specification.md, "Response Message").
METHOD_NOT_FOUND = -32601
REQUEST_CANCELLED = -32800
CONTENT_MODIFIED = -32801
SERVER_CANCELLED = -32802
REQUEST_FAILED = -32803

#: Error codes that say "ask again later", never "this will not work".
TRANSIENT_CODES = frozenset({CONTENT_MODIFIED, SERVER_CANCELLED})


class Kind(enum.Enum):
    REQUEST = "request"
    NOTIFICATION = "notification"
    RESPONSE = "response"
    OTHER = "other"  # not JSON, not an object, or fields of the wrong type


class _Envelope(msgspec.Struct):
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET
    method: str | msgspec.UnsetType = msgspec.UNSET


_peek_decoder = msgspec.json.Decoder(_Envelope)
_any_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Peek:
    kind: Kind
    id: int | str | None = None
    method: str | None = None


_OTHER = Peek(Kind.OTHER)


# The head most peers write: "jsonrpc" and "id" (either order), then "method" or "result"/
# "error", compact or with the spaces json.dumps puts in. On a large body, matching it beats
# letting the decoder skip a megabyte of params; anything else (other key orders, escapes)
# falls through to the decoder. Captures are capped so a failed match never scans the body.
_ID = rb'(-?[0-9]{1,18}|"[^"\\]{0,256}")'
_VERSION = rb'"jsonrpc"\s*:\s*"2\.0"'
_HEAD = re.compile(
    rb"\{\s*(?:"
    + _VERSION
    + rb'\s*,\s*"id"\s*:\s*'
    + _ID
    + rb'|"id"\s*:\s*'
    + _ID
    + rb"\s*,\s*"
    + _VERSION
    + rb")"
    + rb'\s*,\s*(?:"method"\s*:\s*"([^"\\]{1,256})"|"(?:result|error)"\s*:)'
)
_FAST_PEEK_BYTES = 4096
# A notification's usual head. Alone it proves nothing (an "id" could follow the params), but a
# body where no string is "id" (in any of its four spellings) has no id member: four memory
# searches, where the decoder (or the depth check before it) would walk a megabyte of didOpen
# text. Inside a string a quote is always escaped, so text never fakes a missing key.
_ID_KEYS = (b'"id"', b'"\\u0069d"', b'"i\\u0064"', b'"\\u0069\\u0064"')
_NOTE_HEAD = re.compile(
    rb"\{\s*" + _VERSION + rb'\s*,\s*"method"\s*:\s*"([^"\\]{1,256})"\s*,\s*"params"\s*:'
)


def peek_head(head: bytes) -> Peek | None:
    """Classify a body from its first bytes, when it starts the usual way; else None."""
    match = _HEAD.match(head)
    if match is None:
        return None
    first_id, second_id, method = match.groups()
    raw_id = first_id or second_id
    try:
        msg_id: int | str = int(raw_id) if raw_id[0] != 34 else raw_id[1:-1].decode()
        name = None if method is None else method.decode()
    except UnicodeDecodeError:
        return None  # not UTF-8: the decoder's verdict (OTHER), not an exception on the relay
    if name is None:
        return Peek(Kind.RESPONSE, msg_id)
    return Peek(Kind.REQUEST, msg_id, name)


def peek_notification(body: bytes) -> Peek | None:
    """A large notification classified from its head and four searches for an id key; None
    when they do not settle it. Like peek_head, it does not notice a body broken further on."""
    match = _NOTE_HEAD.match(body)
    if match is None or any(key in body for key in _ID_KEYS):
        return None
    try:
        return Peek(Kind.NOTIFICATION, None, match.group(1).decode())
    except UnicodeDecodeError:
        return None


def _too_deep(body: bytes) -> bool:
    """Could decoding ``body`` recurse deeper than MAX_DEPTH? (False for nearly every frame.)"""
    # A body nests at most one level per byte: short ones need no look at all.
    return len(body) > MAX_DEPTH and deeper_than(body, MAX_DEPTH)


def peek(body: bytes) -> Peek:
    """Classify ``body`` by its ``id`` and ``method`` only."""
    if len(body) > _FAST_PEEK_BYTES:
        fast = peek_head(body) or peek_notification(body)
        if fast is not None:
            return fast
    if _too_deep(body):
        fast = peek_head(body)
        if fast is not None:
            return fast
        body = shallow_copy(body)  # the same top level, nested containers emptied
    try:
        env = _peek_decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return _OTHER
    except RecursionError:
        # Out of reach after the depth check, unless the caller's own stack is nearly used
        # up: even then a verdict, never an exception on the relay.
        return _OTHER
    has_id = env.id is not msgspec.UNSET
    msg_id = None if env.id is msgspec.UNSET else env.id  # type: ignore[assignment]
    if isinstance(env.method, str):
        kind = Kind.REQUEST if has_id and msg_id is not None else Kind.NOTIFICATION
        return Peek(kind, msg_id, env.method)
    if has_id:
        return Peek(Kind.RESPONSE, msg_id)
    return _OTHER


def decode(body: bytes) -> dict[str, Any] | None:
    """The whole body as a dict, or None when it is not a JSON object (or nests too deep)."""
    if _too_deep(body):
        return None
    try:
        value = _any_decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        # RecursionError: see peek; the depth check keeps it out of reach in practice.
        return None
    return value if isinstance(value, dict) else None


def encode(message: dict[str, Any]) -> bytes:
    return _encoder.encode(message)


def result_response(msg_id: int | str | None, result: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "id": msg_id, "result": result})


def error_response(msg_id: int | str | None, code: int, message: str) -> bytes:
    return encode({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})


def notification(method: str, params: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "method": method, "params": params})
