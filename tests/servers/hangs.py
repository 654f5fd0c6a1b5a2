"""A pygls server that is slow or silent on purpose, for the timeout path.

textDocument/definition on `hang*` never answers (until cancelled: pygls then answers -32800);
textDocument/declaration on `slow*` answers a location after $HANGS_DELAY seconds (default 1.5)
even if cancelled, so a test can check the proxy drops a late answer; anything else answers a
location at once.
Every `$/cancelRequest` received is listed by `test/counts` ("cancelled"), and each late answer is
noted in "events" just before it is sent.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, identifier, location, make_server
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = make_server("hangs")
DELAY = float(os.environ.get("HANGS_DELAY", "1.5"))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: LanguageServer, params: types.DefinitionParams) -> Any:
    uri = params.text_document.uri
    name = identifier(ls, uri, params.position)
    RECORDER.count(types.TEXT_DOCUMENT_DEFINITION, name)
    if name.startswith("hang"):
        await asyncio.Event().wait()  # a cancel ends the task: pygls answers -32800
    return location(uri)


@server.feature(types.TEXT_DOCUMENT_DECLARATION)
@server.thread()
def declaration(ls: LanguageServer, params: types.DeclarationParams) -> Any:
    # A thread: pygls cannot cancel a running one, so the real answer comes late whatever the
    # client or the proxy says.
    uri = params.text_document.uri
    name = identifier(ls, uri, params.position)
    RECORDER.count(types.TEXT_DOCUMENT_DECLARATION, name)
    if name.startswith("slow"):
        time.sleep(DELAY)
        RECORDER.events.append(f"late answer {name}")
    return location(uri)


if __name__ == "__main__":
    server.start_io()
