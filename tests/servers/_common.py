"""Shared plumbing for the pygls test servers: request counters and test-only requests.

Every pygls test server answers `test/counts` (how many times each (method, identifier) was
received, plus the ids of every `$/cancelRequest` it saw) and `test/pid`, so an end-to-end test can
prove "the server was not asked again" or "the server was told to cancel" without timing anything.
"""

from __future__ import annotations

import collections
import os
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

TRACKED = (
    types.TEXT_DOCUMENT_DEFINITION,
    types.TEXT_DOCUMENT_DECLARATION,
    types.TEXT_DOCUMENT_TYPE_DEFINITION,
    types.TEXT_DOCUMENT_IMPLEMENTATION,
    types.TEXT_DOCUMENT_REFERENCES,
    types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY,
)


class Recorder:
    """What the server saw; read by tests through `test/counts`."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.cancelled: list[Any] = []
        self.events: list[str] = []

    def count(self, method: str, what: str) -> None:
        self.counts[f"{method} {what}"] += 1


RECORDER = Recorder()


class RecordingProtocol(LanguageServerProtocol):
    """Records `$/cancelRequest` ids before pygls handles them (pygls gives no hook for it)."""

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        RECORDER.cancelled.append(msg_id)
        super()._handle_cancel_notification(msg_id)


def identifier(server: LanguageServer, uri: str, position: types.Position) -> str:
    """The identifier at `position`, or "line:character" when there is none."""
    document = server.workspace.get_text_document(uri)
    word = document.word_at_position(position)
    return word or f"{position.line}:{position.character}"


def location(uri: str) -> types.Location:
    start = types.Position(line=0, character=0)
    return types.Location(uri=uri, range=types.Range(start=start, end=start))


def make_server(
    name: str, protocol_cls: type[RecordingProtocol] = RecordingProtocol
) -> LanguageServer:
    server = LanguageServer(name, "v1", protocol_cls=protocol_cls)

    @server.feature("test/counts")
    def counts(_ls: LanguageServer, _params: Any) -> dict[str, Any]:
        return {
            "counts": dict(RECORDER.counts),
            # The same as pairs: pygls clients turn the dict into a namedtuple with renamed keys.
            "pairs": sorted(RECORDER.counts.items()),
            "cancelled": list(RECORDER.cancelled),
            "events": list(RECORDER.events),
        }

    @server.feature("test/pid")
    def pid(_ls: LanguageServer, _params: Any) -> int:
        return os.getpid()

    return server
