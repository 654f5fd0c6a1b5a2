"""A pygls server that dies (exit status 3) while requests are pending.

textDocument/definition on `crash*` (or the `test/crash` request) exits the process at once
with status 3 without answering; on `hang*` it never answers; anything else answers a location.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, identifier, location, make_server
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = make_server("crashes-mid-request")
STATUS = 3


def crash() -> None:
    sys.stdout.flush()
    os._exit(STATUS)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: LanguageServer, params: types.DefinitionParams) -> Any:
    uri = params.text_document.uri
    name = identifier(ls, uri, params.position)
    RECORDER.count(types.TEXT_DOCUMENT_DEFINITION, name)
    if name.startswith("crash"):
        crash()
    if name.startswith("hang"):
        await asyncio.Event().wait()
    return location(uri)


@server.feature("test/crash")
def crash_request(_ls: LanguageServer, _params: Any) -> None:
    crash()


@server.feature("test/never")
async def never(_ls: LanguageServer, _params: Any) -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    server.start_io()
