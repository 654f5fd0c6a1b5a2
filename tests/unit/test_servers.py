"""The per-server table (proxy/servers.py) and what the router does with it: a cancel that
would break pyright's or basedpyright's references for the rest of the session never reaches
them; the proxy answers it."""

from __future__ import annotations

import json
from typing import Any

from lsp_backoff.proxy.actions import Action, Arm, Disarm, ToClient, ToServer
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.routing import Router
from lsp_backoff.proxy.servers import KNOWN, UNKNOWN, by_command, identify

URI = "file:///ws/a.py"
TEXT = "def bad_fn(): pass\ngood = bad_fn()\n"
BASEDPYRIGHT = ["/venv/bin/basedpyright-langserver", "--stdio"]
PYRIGHT = ["node", "/x/.tools/node_modules/pyright/langserver.index.js", "--stdio"]


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def note(method: str, params: Any) -> Frame:
    return framed({"jsonrpc": "2.0", "method": method, "params": params})


def request(ident: Any, method: str, character: int = 5) -> Frame:
    params = {"textDocument": {"uri": URI}, "position": {"line": 0, "character": character}}
    return framed({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})


def body(action: Action) -> dict[str, Any]:
    assert isinstance(action, ToClient | ToServer)
    (item,) = FrameParser().feed(action.data)
    assert isinstance(item, Frame)
    return dict(json.loads(item.body))


def make(command: list[str]) -> Router:
    router = Router(Core(ProxyConfig(no_db=True)), timeout=30, command=command)
    router.from_client(note("textDocument/didOpen", {"textDocument": {"uri": URI, "text": TEXT}}))
    router.drain()
    return router


def initialized(router: Router, server_info: Any) -> None:
    router.from_client(framed({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}))
    result: dict[str, Any] = {"capabilities": {}}
    if server_info is not None:
        result["serverInfo"] = server_info
    router.from_server(framed({"jsonrpc": "2.0", "id": 0, "result": result}))
    router.drain()


def test_servers_are_named_by_server_info_else_by_command() -> None:
    assert identify({"name": "basedpyright", "version": "1.40.2"}) is KNOWN["basedpyright"]
    assert identify(None, PYRIGHT) is KNOWN["pyright"]  # pyright 1.1.414 sends no serverInfo
    assert identify(None, ["env", "-u", "X", *BASEDPYRIGHT]) is KNOWN["basedpyright"]
    assert identify({"name": "pyrefly"}, ["pyrefly", "lsp"]) is UNKNOWN
    assert by_command(["node", "/x/node_modules/other/langserver.index.js"]) is UNKNOWN
    assert identify({"name": "ty"}, []).cancel_poisons == frozenset()  # an entry, no cancel rule


def test_a_cancelled_references_is_answered_by_the_proxy_and_never_reaches_basedpyright() -> None:
    router = make(["basedpyright-langserver", "--stdio"])
    initialized(router, {"name": "basedpyright", "version": "1.40.2"})
    refs = request(1, "textDocument/references")
    assert router.from_client(refs) == [ToServer(refs.raw), Arm(1)]
    actions = router.from_client(note("$/cancelRequest", {"id": 1}))
    assert actions is not None and len(actions) == 2
    assert body(actions[0])["error"]["code"] == -32800 and body(actions[0])["id"] == 1
    assert actions[1] == Disarm(1)
    late = framed({"jsonrpc": "2.0", "id": 1, "result": [{"uri": URI, "range": {}}]})
    assert router.from_server(late) == []  # the client has its answer: this one is dropped
    # implementation too (basedpyright); definition's cancel goes to the server as ever.
    impl = request(2, "textDocument/implementation")
    router.from_client(impl)
    assert body(router.from_client(note("$/cancelRequest", {"id": 2}))[0])["id"] == 2  # type: ignore[index]
    router.from_client(request(3, "textDocument/definition"))
    assert router.from_client(note("$/cancelRequest", {"id": 3})) is None


def test_pyright_without_server_info_is_known_by_its_command() -> None:
    router = make(PYRIGHT)
    initialized(router, None)
    router.from_client(request(1, "textDocument/references"))
    actions = router.from_client(note("$/cancelRequest", {"id": 1}))
    assert actions is not None and body(actions[0])["error"]["code"] == -32800
    # pyright has no implementation: its cancel is forwarded (nothing to break).
    router.from_client(request(2, "textDocument/implementation"))
    assert router.from_client(note("$/cancelRequest", {"id": 2})) is None


def test_other_servers_get_every_cancel_forwarded() -> None:
    router = make(["pyrefly", "lsp"])
    initialized(router, {"name": "pyrefly"})
    router.from_client(request(1, "textDocument/references"))
    assert router.from_client(note("$/cancelRequest", {"id": 1})) is None


def test_the_proxys_own_timeout_sends_no_cancel_to_a_server_it_would_break() -> None:
    router = make(BASEDPYRIGHT)
    router.from_client(request(1, "textDocument/references"))
    (to_client,) = router.timed_out(1)
    assert body(to_client)["error"]["code"] == -32803
    assert router.from_server(framed({"jsonrpc": "2.0", "id": 1, "result": None})) == []
    router.from_client(request(2, "textDocument/definition"))
    _, to_server = router.timed_out(2)
    assert body(to_server)["method"] == "$/cancelRequest"


def test_the_last_follower_leaving_a_cancelled_leader_is_answered_here_too() -> None:
    router = make(BASEDPYRIGHT)
    router.from_client(request(1, "textDocument/references"))
    assert router.from_client(request(2, "textDocument/references")) == []  # follows 1
    assert router.from_client(note("$/cancelRequest", {"id": 1})) == []  # 2 still waits
    actions = router.from_client(note("$/cancelRequest", {"id": 2}))
    assert actions is not None
    answered = sorted(body(a)["id"] for a in actions if isinstance(a, ToClient))
    assert answered == [1, 2]
    assert not [a for a in actions if isinstance(a, ToServer)]


def test_a_restarted_server_is_told_the_clients_initialize_and_open_documents() -> None:
    from lsp_backoff.proxy.restart import initialize_request, reopen

    b = "file:///ws/b.py"
    params = {"rootUri": "file:///ws", "capabilities": {"x": 1}}
    router = make(BASEDPYRIGHT)
    router.from_client(
        framed({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
    )
    item = {"uri": b, "languageId": "python", "version": 3, "text": "b = 1\n"}
    router.from_client(note("textDocument/didOpen", {"textDocument": item}))
    change = {"textDocument": {"uri": b, "version": 4}, "contentChanges": [{"text": "b = 2\n"}]}
    router.from_client(note("textDocument/didChange", change))
    router.from_client(note("textDocument/didClose", {"textDocument": {"uri": URI}}))
    router.drain()
    assert router.initialize_request is not None
    request = initialize_request(router.initialize_request, "lsp-backoff/restart/1")
    assert request is not None
    (again,) = FrameParser().feed(request)
    assert isinstance(again, Frame)
    restart_id = "lsp-backoff/restart/1"
    expected = {"jsonrpc": "2.0", "id": restart_id, "method": "initialize", "params": params}
    assert json.loads(again.body) == expected
    told = []
    for data in reopen(router.documents):
        for frame in FrameParser().feed(data):
            assert isinstance(frame, Frame)
            told.append(json.loads(frame.body))
    reopened = {"uri": b, "languageId": "python", "version": 4, "text": "b = 2\n"}
    assert told == [
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": reopened}},
    ]
    assert initialize_request(b"not json", "x") is None
