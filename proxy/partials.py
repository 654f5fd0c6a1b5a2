"""Partial results: what a server streams under a request's ``partialResultToken``, kept
until the final answer, so that the answer the proxy learns from is all of it (issue 25).

LSP 3.17 "Partial Result Progress" (types/partialResults.md): a client that puts a
``partialResultToken`` in a request's params may get the result in pieces — each ``$/progress``
with that token carries an array that appends to the result — and then a final response that
is empty "in terms of result values". basedpyright does exactly that for references (183
locations of ``rich``'s ``Console`` streamed, a final ``[]``): learning from the final answer
alone writes a false ``none``. Here the answer is the pieces followed by the final result.
The same holds for the symbol lists the proxy records symbols from (documentSymbol,
workspace/symbol: their pieces are symbols); their requests are not decoded otherwise, so one
is read for its token only when its bytes name a ``partialResultToken``.

What the spec says about errors is kept as it says it: after any error but ``RequestCancelled``
the pieces "shouldn't be used" (the error is learnt as every error is); after a client's cancel
they are incomplete, so nothing is learnt from a request cancelled while its stream ran.

Cheap by construction: every progress is forwarded byte for byte by the router before any of
this runs (deferred work). Its token is then read from the head most servers write
(``{"jsonrpc":"2.0","method":"$/progress","params":{"token":…,"value":``): an array under a
token nobody here waits for is left at that, unread. Otherwise a typed decoder reads the token
and keeps the ``value`` as raw bytes (located, not built); the value is decoded only when the
token is a tracked request's in flight — or, for readiness, when it is an object (a work-done
report). Measured (a busy 2-core machine) on a piece of 183 locations, 21 KiB: 2 µs from the
head, 200-280 µs through the typed decoder, where decoding the whole body (as every progress
was before) took 200-450 µs; 5,000 locations, 588 KiB: 1 µs, 5-7 ms, 17-25 ms. A tracked
piece costs about a whole decode (0.5-1.2x).

It owns the streams of the requests in flight, by token. It does not forward, decide, or
record: the router calls ``watch`` (``watch_request``) when it sends a request, ``progress``
for each progress, ``close`` when an answer arrives that is learnt from later and
``finish``/``drop`` when the request leaves; ``answer`` returns the response to learn from.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from cachetools import LRUCache

from lsp_backoff.proxy import messages as msg
from lsp_backoff.proxy.nesting import MAX_DEPTH, deeper_than

log = logging.getLogger("lsp_backoff.routing")

Token = int | str


class _Progress(msgspec.Struct):
    token: Token | None = None
    value: msgspec.Raw = msgspec.Raw(b"null")


class _Notification(msgspec.Struct):
    params: _Progress | None = None


_progress_decoder = msgspec.json.Decoder(_Notification)
_TOKEN = rb'(-?[0-9]{1,18}|"[^"\\]{0,256}")'
#: The usual head of a progress, up to its value (captures capped: a failed match is short).
_HEAD = re.compile(
    rb'\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"method"\s*:\s*"\$/progress"\s*,\s*"params"\s*:\s*'
    rb'\{\s*"token"\s*:\s*' + _TOKEN + rb'\s*,\s*"value"\s*:\s*'
)
_value_decoder = msgspec.json.Decoder()


#: Found in every request that has a token (a quick search before decoding one that is not
#: decoded otherwise: a symbol list's; an escaped spelling is missed, and so is its stream).
MAY_HAVE_TOKEN = b'"partialResultToken"'


def token_of(params: Any) -> Token | None:
    """The ``partialResultToken`` of a request's params (a ProgressToken: integer or string)."""
    token = params.get("partialResultToken") if isinstance(params, dict) else None
    return token if isinstance(token, int | str) and not isinstance(token, bool) else None


def _head_token(raw: bytes) -> Token | None:
    if raw[:1] != b'"':
        return int(raw)
    try:
        return raw[1:-1].decode()
    except UnicodeDecodeError:
        return None  # the typed decoder's verdict, then


def read_progress(body: bytes) -> tuple[Token, msgspec.Raw] | None:
    """A ``$/progress`` body's token and its value, undecoded; None for another shape."""
    if len(body) > MAX_DEPTH and deeper_than(body, MAX_DEPTH):
        return None  # the decoder would recurse that deep (messages.py, issue 10)
    try:
        params = _progress_decoder.decode(body).params
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None  # not a ProgressParams: nothing to learn (it was forwarded all the same)
    if params is None or params.token is None:
        return None
    return params.token, params.value


def decode_value(raw: msgspec.Raw) -> Any:
    """A progress value, built (None when it is not JSON after all)."""
    try:
        return _value_decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


def is_object(raw: msgspec.Raw) -> bool:
    """Is this value a JSON object (a work-done report), judged from its first byte?"""
    return memoryview(raw)[:1] == b"{"


@dataclass(slots=True, eq=False)
class Stream:
    """What was streamed so far for one request."""

    msg_id: Any
    method: str
    items: list[Any] = field(default_factory=list)
    pieces: int = 0
    #: Another request in flight was given the same token (the spec wants them unique): whose
    #: pieces are whose cannot be told, so no result of either is learnt.
    shared: bool = False


class Partials:
    def __init__(self, remember_done: int = 1024) -> None:
        self._streams: dict[Token, Stream] = {}  # token → the stream its pieces go to
        self._by_id: dict[Any, tuple[Token, Stream]] = {}  # request id → its token and stream
        # Tokens whose request has left, to name a late piece in the log (once). Bounded.
        self._done: LRUCache[Token, str] = LRUCache(maxsize=remember_done)

    def __len__(self) -> int:
        return len(self._by_id)

    def watch(self, token: Token, msg_id: Any, method: str) -> None:
        """The request ``msg_id`` was sent with ``token``: collect its pieces."""
        self._done.pop(token, None)
        stream = Stream(msg_id, method)
        clash = self._streams.get(token)
        if clash is not None:
            log.info("partialResultToken %r is used by two requests in flight", token)
            clash.shared = stream.shared = True
        self._streams[token] = stream
        self._by_id[msg_id] = token, stream

    def watch_request(self, msg_id: Any, method: str, body: bytes) -> None:
        """``body``, a request just sent: watch it if its params carry a token."""
        decoded = msg.decode(body)
        params = decoded.get("params") if decoded is not None else None
        token = token_of(params)
        if token is not None:
            self.watch(token, msg_id, method)

    def progress(self, body: bytes) -> tuple[Token, Any] | None:
        """A ``$/progress`` body: kept when it is a piece of a stream; else its token and
        value when the value is a work-done report (for readiness), else None."""
        head = _HEAD.match(body)
        if head is not None and body[head.end() : head.end() + 1] != b"{":
            token = _head_token(head.group(1))
            if token is not None and token not in self._streams and token not in self._done:
                return None  # another's array, never read further
        found = read_progress(body)
        if found is None:
            return None
        token, value = found
        if self.piece(token, value) or not is_object(value):
            return None
        return token, decode_value(value)

    def piece(self, token: Token, value: msgspec.Raw) -> bool:
        """A progress under ``token``: True when it was a stream's piece (kept, or ignored
        after its answer) — not a work-done report."""
        stream = self._streams.get(token)
        if stream is None:
            method = self._done.pop(token, None)
            if method is None:
                return False
            # The spec puts every piece before the final response: it is not part of it.
            log.info(
                "partial result for %s after its answer (token %r): not recorded", method, token
            )
            return True
        decoded = decode_value(value)
        stream.pieces += 1
        if isinstance(decoded, list):
            stream.items.extend(decoded)
        elif isinstance(decoded, dict):  # one result where the spec says an array of them
            stream.items.append(decoded)
        return True

    def close(self, msg_id: Any) -> None:
        """The request ``msg_id`` was answered: a later piece is not part of its answer (its
        stream stays until ``finish``)."""
        found = self._by_id.get(msg_id)
        if found is None:
            return
        token, stream = found
        if self._streams.get(token) is stream:  # (else a request sharing its token has it)
            del self._streams[token]
            self._done[token] = stream.method

    def finish(self, msg_id: Any) -> Stream | None:
        """The request ``msg_id`` has left (answered, timed out, …): its stream, if it had one."""
        self.close(msg_id)
        found = self._by_id.pop(msg_id, None)
        return None if found is None else found[1]

    def drop(self, msg_id: Any) -> None:
        """The proxy answered ``msg_id`` itself (timeout): its stream teaches nothing."""
        self.finish(msg_id)

    def clear(self) -> None:
        """The server is gone: no stream goes on."""
        self._streams.clear()
        self._by_id.clear()


def answer(stream: Stream, decoded: dict[str, Any], cancelled: bool) -> dict[str, Any] | None:
    """The response to learn from: ``decoded`` (the final response) with the streamed pieces
    before its result; None when nothing can be learnt from it."""
    if stream.shared:
        return decoded if "error" in decoded else None
    if "error" in decoded:
        return decoded  # the pieces are not to be used (RequestCancelled: learnt as nothing)
    if not stream.pieces:
        return decoded  # the server did not stream: its final answer is the whole answer
    if cancelled:
        return None  # cut short anywhere: the pieces are not the whole answer
    final = decoded.get("result")
    if isinstance(final, list):
        items = [*stream.items, *final]
    elif final is not None:
        items = [*stream.items, final]
    else:
        items = stream.items
    return {**decoded, "result": items}
