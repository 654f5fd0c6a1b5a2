"""A pygls server that streams its answers as partial results (LSP 3.17 "Partial Result
Progress"), the way basedpyright answers references: pieces under the request's
`partialResultToken`, then a final `[]`.

`textDocument/references` (and definition) on an identifier, by its name:
- `pieces*`: three `$/progress` pieces (lines 1; 2; 3 and 4), then `[]`;
- `empty*`: no piece, `[]` — a true "no result";
- `late*`: one piece (line 5), `[]`; then, on the `test/late` notification (sent by the test
  once it has the answer), a second piece (line 6) under the same token — the spec puts every
  piece before the final response, so that one is not part of the answer;
- `cut*`: one piece (line 7), then waits for the `test/release` notification, streams a second
  piece (line 8) and answers `[]` — this server ignores `$/cancelRequest` (it only counts it), so
  a test can cancel in the middle of a stream and still see the stream go on and end with `[]`;
- anything else, or a request without a token: one location (line 9), whole.

After `initialized` it reports a work-done progress begin and end (token `loading`): the proxy
then takes an empty answer as definitive at once. `test/counts` as in every test server.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, RecordingProtocol, identifier, make_server
from lsprotocol import types
from pygls.lsp.server import LanguageServer


class IgnoresCancel(RecordingProtocol):
    """Counts `$/cancelRequest` and goes on: the request is answered whatever the client says."""

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        RECORDER.cancelled.append(msg_id)


server = make_server("streams_partial_results", IgnoresCancel)
RELEASE = asyncio.Event()
LATE: list[tuple[Any, str]] = []  # (token, uri) of each late* request answered


def at(uri: str, line: int) -> dict[str, Any]:
    start = {"line": line, "character": 0}
    return {"uri": uri, "range": {"start": start, "end": start}}


def progress(token: Any, value: Any) -> None:
    server.protocol.notify("$/progress", types.ProgressParams(token=token, value=value))


def piece(token: Any, value: list[Any]) -> None:
    progress(token, value)


@server.feature(types.INITIALIZED)
def initialized(_ls: LanguageServer, _params: types.InitializedParams) -> None:
    progress("loading", {"kind": "begin", "title": "indexing"})
    progress("loading", {"kind": "end"})


@server.feature("test/late")
def late(_ls: LanguageServer, _params: Any) -> None:
    for token, uri in LATE:
        piece(token, [at(uri, 6)])
    LATE.clear()


@server.feature("test/release")
def release(_ls: LanguageServer, _params: Any) -> None:
    RELEASE.set()


async def answer(ls: LanguageServer, method: str, params: Any) -> Any:
    uri = params.text_document.uri
    name = identifier(ls, uri, params.position)
    RECORDER.count(method, name)
    token = params.partial_result_token
    if token is None:
        return [at(uri, 9)]
    if name.startswith("pieces"):
        piece(token, [at(uri, 1)])
        piece(token, [at(uri, 2)])
        piece(token, [at(uri, 3), at(uri, 4)])
        return []
    if name.startswith("empty"):
        return []
    if name.startswith("late"):
        piece(token, [at(uri, 5)])
        LATE.append((token, uri))
        return []
    if name.startswith("cut"):
        piece(token, [at(uri, 7)])
        await RELEASE.wait()
        RELEASE.clear()
        piece(token, [at(uri, 8)])
        return []
    return [at(uri, 9)]


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def references(ls: LanguageServer, params: types.ReferenceParams) -> Any:
    return await answer(ls, types.TEXT_DOCUMENT_REFERENCES, params)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: LanguageServer, params: types.DefinitionParams) -> Any:
    return await answer(ls, types.TEXT_DOCUMENT_DEFINITION, params)


if __name__ == "__main__":
    server.start_io()
