"""A pygls server with scripted readiness: it "loads" until the client sends `test/finishLoading`.

Mode (argv[1] or $LOADING_MODE): `progress` — after `initialized` it creates a work-done token
and sends `$/progress` begin, and `end` on `test/finishLoading`; `status` — it sends
`experimental/serverStatus` `{quiescent: false}` then `{quiescent: true}`.
While loading, every tracked request answers `null`; once loaded, `none*` answers `null` and
anything else one location. `test/counts` as in every test server.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, TRACKED, identifier, location, make_server
from lsprotocol import types
from pygls.lsp.server import LanguageServer

MODE = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LOADING_MODE", "progress")
TOKEN = "loading-token"
server = make_server("loading")
LOADING = True


def status(quiescent: bool) -> None:
    server.protocol.notify("experimental/serverStatus", {"health": "ok", "quiescent": quiescent})


@server.feature(types.INITIALIZED)
async def initialized(ls: LanguageServer, _params: types.InitializedParams) -> None:
    if MODE == "status":
        status(False)
        return
    await ls.window_work_done_progress_create_async(types.WorkDoneProgressCreateParams(token=TOKEN))
    ls.progress(
        types.ProgressParams(
            token=TOKEN, value=types.WorkDoneProgressBegin(title="indexing", percentage=0)
        )
    )


@server.feature("test/finishLoading")
def finish(ls: LanguageServer, _params: Any) -> str:
    global LOADING
    LOADING = False
    if MODE == "status":
        status(True)
    else:
        ls.progress(
            types.ProgressParams(token=TOKEN, value=types.WorkDoneProgressEnd(message="indexed"))
        )
    return "loaded"


def register(method: str) -> None:
    @server.feature(method)
    def handler(ls: LanguageServer, params: Any) -> Any:
        name = identifier(ls, params.text_document.uri, params.position)
        RECORDER.count(method, name)
        if LOADING or name.startswith("none"):
            return None
        if method == types.TEXT_DOCUMENT_REFERENCES:
            return [location(params.text_document.uri)]
        return location(params.text_document.uri)


for _method in TRACKED:
    if _method != types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY:
        register(_method)

if __name__ == "__main__":
    server.start_io()
