"""A pygls server that asks the client things and remembers the answers.

After `initialized` it sends workspace/configuration, client/registerCapability and
window/workDoneProgress/create (then a `$/progress` begin/end on that token); `test/answers`
waits (bounded) until all three answers arrived and returns them, errors included.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import make_server
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = make_server("asks-client")
ANSWERS: dict[str, Any] = {}
DONE = asyncio.Event()


async def ask(key: str, call: Any) -> None:
    try:
        result = await asyncio.wait_for(call, 10)
        ANSWERS[key] = {"result": server.protocol._converter.unstructure(result)}
    except Exception as exc:  # every kind of failure is an answer the test wants to see
        ANSWERS[key] = {"error": f"{type(exc).__name__}: {exc}"}


@server.feature(types.INITIALIZED)
async def initialized(ls: LanguageServer, _params: types.InitializedParams) -> None:
    item = types.ConfigurationItem(section="lspBackoffTest")
    await ask(
        "configuration",
        ls.workspace_configuration_async(
            types.ConfigurationParams(items=[item, types.ConfigurationItem(section="other")])
        ),
    )
    registration = types.Registration(
        id="reg-1",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options={"watchers": [{"globPattern": "**/*.py"}]},
    )
    await ask(
        "register",
        ls.client_register_capability_async(types.RegistrationParams(registrations=[registration])),
    )
    await ask(
        "progress",
        ls.window_work_done_progress_create_async(
            types.WorkDoneProgressCreateParams(token="asks-client-token")
        ),
    )
    ls.progress(
        types.ProgressParams(
            token="asks-client-token", value=types.WorkDoneProgressBegin(title="asking")
        )
    )
    ls.progress(
        types.ProgressParams(
            token="asks-client-token", value=types.WorkDoneProgressEnd(message="done")
        )
    )
    DONE.set()


@server.feature("test/answers")
async def answers(_ls: LanguageServer, _params: Any) -> dict[str, Any]:
    await asyncio.wait_for(DONE.wait(), 10)
    return ANSWERS


if __name__ == "__main__":
    server.start_io()
