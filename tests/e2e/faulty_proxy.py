"""`python -m lsp_backoff` with faults injected into its decisions, for the frame-level catch
test (issue 10 item 3): whatever a bug in deciding about a frame looks like, the session must
survive it. A frame whose body contains one of the markers below raises where that kind of
bug would: decoding (``messages.peek``, both directions), document sync; an answer to a request
about the identifier RECORD_FAULT raises where recording it would (``Outcomes.response``).
"""

from __future__ import annotations

import sys
from typing import Any

from lsp_backoff.proxy import messages, outcomes, routing
from lsp_backoff.proxy.cli import main

DECODE_FAULT = b"lsp-backoff-decode-fault"
SYNC_FAULT = b"lsp-backoff-sync-fault"
SERVER_FAULT = b"custom/notify"  # raw_recorder sends one after `initialized`
RECORD_FAULT = "lsp_backoff_record_fault"  # an identifier: a tracked request's symbol

_response = outcomes.Outcomes.response

_peek = messages.peek
_document_event = routing.document_event


def peek(body: bytes) -> messages.Peek:
    if DECODE_FAULT in body or SERVER_FAULT in body:
        raise RecursionError("injected: maximum recursion depth exceeded")
    return _peek(body)


def document_event(method: str, body: bytes, *args: Any) -> None:
    if SYNC_FAULT in body:
        raise KeyError("injected: a bug in document sync")
    _document_event(method, body, *args)


def response(self: outcomes.Outcomes, method: str, symbol: Any, *args: Any, **kw: Any) -> None:
    if symbol.name == RECORD_FAULT:
        raise AttributeError("injected: a bug in recording an answer")
    _response(self, method, symbol, *args, **kw)


messages.peek = peek
outcomes.Outcomes.response = response  # type: ignore[method-assign]
routing.document_event = document_event

if __name__ == "__main__":
    sys.exit(main())
