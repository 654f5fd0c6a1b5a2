"""Identical tracked requests in flight are asked once (issue 12 item 3): what "identical"
means, and the leader's answer under a follower's id.

Two requests are identical when they have the same method, the same symbol and operation on
the same content, and the same params (the id aside): a later one attaches to the first in the
request table and gets the first's answer. The answer is forwarded byte for byte apart from its
``id`` value, found at the head or the tail of the body where every peer we know writes it;
a body of another shape is re-encoded (the same JSON, other bytes).

Per session, not across the sessions of one :class:`proxy.core.Core` (enrich's pool): enrich
never has one (symbol, operation) in flight twice — its asker skips what is in flight, and a
question goes to the server holding its document open (enrich/window.py), so an identical
request on another server does not occur (none of 19,475 tracked requests on `rich`, 5
operations, 2 servers, was identical to another, in flight or not).
Across sessions a follower would hang on another server's pipe, death, timeout, cancel and
readiness (which decides whether an empty answer is definitive), and may need a document open
that its own server has not opened.

A request with a ``partialResultToken`` is never coalesced, either way (issue 25): its answer
is streamed as ``$/progress`` under its own token, to its own client, before a final ``[]``
(LSP 3.17 "Partial Result Progress"). A follower would get that ``[]`` and none of the pieces,
which went under the leader's token; re-sending each piece under a follower's token would
re-encode every progress on the forwarding path. Two requests with different tokens differ in
their params anyway; a token used twice breaks the spec's one-token-one-request rule.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import msgspec

from lsp_backoff.proxy import messages as msg
from lsp_backoff.tracker.model import SymbolRef

Key = tuple[str, str, str, Hashable, bytes]

_VALUE = rb'(-?[0-9]{1,20}|"(?:[^"\\]|\\.){0,256}"|null)'
_VERSION = rb'"jsonrpc"\s*:\s*"2\.0"\s*,\s*'
#: ``{"id": …`` or ``{"jsonrpc": "2.0", "id": …`` — the id as the top object's first members.
_HEAD = re.compile(rb"\s*\{\s*(?:" + _VERSION + rb')?"id"\s*:\s*' + _VALUE + rb"\s*[,}]")
#: ``…, "id": …}`` closing the body: its last member, so the top object's.
_TAIL = re.compile(rb'[,{]\s*"id"\s*:\s*' + _VALUE + rb"\s*\}\s*\Z")
_TAIL_BYTES = 300
_sorted = msgspec.json.Encoder(order="sorted")


def key_of(method: str, symbol: SymbolRef, operation: str, params: Any, text: Hashable) -> Key:
    """What makes two tracked requests the same question (their ids aside). ``text`` stands
    for the content asked about, unhashed: equal only for the very same text (see
    ``Documents.version_later``)."""
    return (method, symbol.key, operation, text, _sorted.encode(params))


def may_coalesce(params: Any) -> bool:
    """May this tracked request follow, or lead, an identical one? Not when its result is
    streamed to its client under a partialResultToken (see above)."""
    return not (isinstance(params, dict) and "partialResultToken" in params)


def with_id(body: bytes, msg_id: int | str) -> bytes:
    """``body`` (a response) answering ``msg_id`` instead of its own id."""
    new_id = msgspec.json.encode(msg_id)
    head = _HEAD.match(body)
    if head is not None:
        return body[: head.start(1)] + new_id + body[head.end(1) :]
    start = max(0, len(body) - _TAIL_BYTES)
    tail = _TAIL.search(body, start)
    if tail is not None:
        return body[: tail.start(1)] + new_id + body[tail.end(1) :]
    decoded = msg.decode(body) or {}
    return msg.encode({**decoded, "id": msg_id})
