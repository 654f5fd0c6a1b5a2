"""The LSP client side of `lsp-backoff enrich`: a proxy session in this process, and requests to it.

`ProxyConnection` runs the proxy's own :class:`proxy.session.Session` (the one
`lsp-backoff -- SERVER` runs) in this process and speaks LSP to it, so every tracked request
passes the same tracker, short-circuit and graph code an editor session uses; nothing here
writes to the database. It knows how to turn an (operation, position) into the right request
and how to reach the proxy-private requests (`lspBackoff/flush`, `lspBackoff/stats`). It has no
scheduling policy: that is monitor.py's.

Requests and answers are plain JSON (dicts, lists) — see jsonrpc.py. The connection is split in
two so the benchmark can measure the very same client against the server directly:
:class:`LspConnection` (requests over any byte pipe) and :class:`ProxyConnection` (that pipe is
a proxy session in this process).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.logs import SERVER_LOGGER
from lsp_backoff.proxy.messages import TRANSIENT_CODES
from lsp_backoff.proxy.operations import CALLS, LOCATE
from lsp_backoff.proxy.servers import LISTS_SOURCES, SOURCES_LISTED
from lsp_backoff.proxy.session import ServerStartError, Session
from lsp_backoff.proxy.units import GRAPH_UNIT

from .files import language_id
from .jsonrpc import Handler, JsonRpcClient, ResponseError

#: Client capabilities an editor would advertise for the features enrich uses. workDoneProgress
#: matters: servers that report progress let the proxy tell "still loading" from "no result".
CAPABILITIES: dict[str, Any] = {
    "workspace": {"configuration": True, "workspaceFolders": True, "symbol": {}},
    "textDocument": {
        "synchronization": {},
        "documentSymbol": {
            "hierarchicalDocumentSymbolSupport": True,
            "symbolKind": {"valueSet": list(range(1, 27))},  # every SymbolKind of LSP 3.17
        },
        "definition": {"linkSupport": True},
        "declaration": {"linkSupport": True},
        "typeDefinition": {"linkSupport": True},
        "implementation": {"linkSupport": True},
        "references": {},
        "callHierarchy": {},
    },
    "window": {"workDoneProgress": True},
    # The graph's own unit (proxy/units.py): the positions enrich asks at are the graph's, and
    # every server must offer it.
    "general": {"positionEncodings": [GRAPH_UNIT]},
}

#: documentSymbol askings per document while the server answers "content modified".
SYMBOL_ATTEMPTS = 5

#: The position and call requests, by operation name (from the project's one table).
LOCATE_METHODS = {operation: method for method, operation in LOCATE.items()}
CALL_METHODS = {operation: method for method, operation in CALLS.items()}

#: How many lines of the server's stderr and the proxy's warnings are kept, to explain a crash.
STDERR_TAIL = 20
#: The proxy's loggers (routing, store, session, the server's stderr) all sit under this name.
PROXY_LOGGER = "lsp_backoff"


class ServerDied(Exception):
    """The server exited (or could not start) while enrich still needed it."""


def _null_per_item(params: Any) -> list[None]:
    # workspace/configuration: no settings; null per item tells the server to use its defaults
    # (spec 3.17, workspace/configuration).
    items = params.get("items") if isinstance(params, dict) else None
    return [None] * len(items) if isinstance(items, list) else []


#: The requests servers send their client, answered the way a minimal editor would.
SERVER_REQUESTS: dict[str, Handler] = {
    "workspace/configuration": _null_per_item,
    "window/workDoneProgress/create": lambda params: None,
    "client/registerCapability": lambda params: None,
    "client/unregisterCapability": lambda params: None,
    "window/showMessageRequest": lambda params: None,
    "workspace/workspaceFolders": lambda params: None,
}


class LspConnection:
    """enrich's requests over a byte pipe; subclasses connect the pipe and watch its end."""

    def __init__(self, workspace: Path, request_timeout: float) -> None:
        self.workspace = workspace
        self.request_timeout = request_timeout
        self.exited = asyncio.Event()
        self.returncode: int | None = None
        self.rpc: JsonRpcClient | None = None
        #: The proxy's counters as last fetched: all that is left of them once it has died.
        self.last_stats: dict[str, int] = {}
        #: Called (no arguments) once the far end is gone, right after `exited` is set.
        self.on_lost: list[Callable[[], None]] = []
        #: The server said it lists the workspace's sources before answering in full (pyright).
        self.lists_sources = False
        #: ... and it has said that listing is done.
        self.sources_listed = asyncio.Event()
        #: The server's capabilities from its initialize result (None before; capabilities.py).
        self.capabilities: dict[str, Any] | None = None
        #: The initialize answer's serverInfo ({"name", "version"}), if it sent one.
        self.server_info: Any = None
        #: Methods the server registered through client/registerCapability.
        self.registered: set[str] = set()

    def connect(self, write: Callable[[bytes], None]) -> JsonRpcClient:
        handlers = {**SERVER_REQUESTS, "client/registerCapability": self._register}
        self.rpc = JsonRpcClient(write, handlers, self._notified)
        return self.rpc

    def _register(self, params: Any) -> None:
        registrations = params.get("registrations") if isinstance(params, dict) else None
        for registration in registrations if isinstance(registrations, list) else ():
            if isinstance(registration, dict) and isinstance(registration.get("method"), str):
                self.registered.add(registration["method"])

    def _notified(self, method: str, params: Any) -> None:
        if method != "window/logMessage" or not isinstance(params, dict):
            return
        message = params.get("message")
        if not isinstance(message, str):
            return
        if LISTS_SOURCES.search(message):
            self.lists_sources = True
        elif SOURCES_LISTED.fullmatch(message):
            self.sources_listed.set()

    async def workspace_listed(self, timeout: float) -> bool:
        """Wait until a server that lists the workspace's sources first has done so (see
        LISTS_SOURCES); True at once for the others. False after `timeout` seconds without it,
        or when the server exits first."""
        if not self.lists_sources or self.sources_listed.is_set():
            return True
        waits = [asyncio.ensure_future(e.wait()) for e in (self.sources_listed, self.exited)]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return self.sources_listed.is_set()

    def lost(self, returncode: int) -> None:
        """The pipe's far end is gone: fail what is waiting, and say so."""
        self.returncode = returncode
        if self.rpc is not None:
            self.rpc.close(ServerDied(self.describe_exit()))
        self.exited.set()
        for callback in self.on_lost:
            callback()

    def describe_exit(self) -> str:
        return f"server exited (status {self.returncode})"

    async def initialize(self) -> None:
        root = self.workspace.as_uri()
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "lsp-backoff-enrich"},
                "rootUri": root,
                "rootPath": str(self.workspace),
                "capabilities": CAPABILITIES,
                "workspaceFolders": [{"uri": root, "name": self.workspace.name or root}],
            },
        )
        capabilities = result.get("capabilities") if isinstance(result, dict) else None
        if isinstance(capabilities, dict):
            self.capabilities = capabilities
        self.server_info = result.get("serverInfo") if isinstance(result, dict) else None
        self.notify("initialized", {})

    async def request(self, method: str, params: Any = None) -> Any:
        """One answer; ServerDied if the server exits first, TimeoutError past the bound,
        ResponseError for an error answer.

        The proxy enforces --timeout itself and answers -32803; the bound here is only a backstop
        against a session that stops answering altogether.
        """
        if self.rpc is None or self.exited.is_set():
            raise ServerDied(self.describe_exit())
        async with asyncio.timeout(self.request_timeout):
            return await self.rpc.request(method, params)

    def notify(self, method: str, params: Any = None) -> None:
        if self.rpc is not None:
            self.rpc.notify(method, params)

    def open(self, path: Path, text: str, version: int = 1) -> None:
        """didOpen. A document opened again after its didClose needs a higher `version`
        (spec 3.17, "Text Document Item": the version increases after each change)."""
        document = {"uri": path.as_uri(), "languageId": language_id(path), "version": version}
        self.notify("textDocument/didOpen", {"textDocument": {**document, "text": text}})

    def change(self, uri: str, version: int, text: str) -> None:
        """didChange with the whole new text, at `version` (the document's next one)."""
        params = {"textDocument": {"uri": uri, "version": version}}
        self.notify("textDocument/didChange", {**params, "contentChanges": [{"text": text}]})

    def close_document(self, uri: str) -> None:
        """didClose: the server may forget the document (and stop checking it)."""
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    async def document_symbols(self, uri: str) -> Any:
        """The document's symbols, asked again after a "content modified" answer.

        ty cancels every running query when any document changes and answers ContentModified
        (-32801): a didOpen of the next file lands while it lists this one's symbols (4 of the
        6 files of examples/ when they are opened together). The spec's answer to that code is
        to ask again; bounded, so a server that always says it fails like any other error.
        """
        params = {"textDocument": {"uri": uri}}
        for _ in range(SYMBOL_ATTEMPTS - 1):
            try:
                return await self.request("textDocument/documentSymbol", params)
            except ResponseError as exc:
                if exc.code not in TRANSIENT_CODES:
                    raise
        return await self.request("textDocument/documentSymbol", params)

    async def locate(self, operation: str, uri: str, line: int, character: int) -> Any:
        """definition, declaration, type_definition, implementation or references at a position."""
        method = LOCATE_METHODS.get(operation)
        if method is None:
            raise ValueError(f"not a location operation: {operation}")
        params: dict[str, Any] = {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
        }
        if operation == "references":
            # includeDeclaration false: the declaration is the symbol itself, so a symbol nobody
            # uses gets a meaningful "none" instead of an edge to itself.
            params["context"] = {"includeDeclaration": False}
        return await self.request(method, params)

    async def prepare_call_hierarchy(self, uri: str, line: int, character: int) -> list[Any]:
        params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
        items = await self.request("textDocument/prepareCallHierarchy", params)
        return list(items) if isinstance(items, list) else []

    async def calls(self, operation: str, item: dict[str, Any]) -> Any:
        return await self.request(CALL_METHODS[operation], {"item": item})

    async def shutdown(self, grace: float) -> None:
        """shutdown + exit, as an editor closing the session sends them."""
        if self.rpc is not None and not self.exited.is_set():
            with contextlib.suppress(Exception):  # a dying server cannot spoil the cleanup
                await asyncio.wait_for(self.request("shutdown"), grace)
                self.notify("exit")


class _Tail(logging.Handler):
    """Keeps the last lines of the server's stderr and the proxy's warnings, to explain a
    failure (the proxy's routine lines — one per failed request — would crowd them out)."""

    def __init__(self, lines: collections.deque[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == SERVER_LOGGER or record.levelno >= logging.WARNING:
            self.lines.append(record.getMessage())


class _ToClient:
    """The session's client side: frames for the client go straight to our JSON-RPC end."""

    def __init__(self, rpc: JsonRpcClient) -> None:
        self.rpc = rpc

    def write(self, data: bytes) -> None:
        self.rpc.feed(data)

    async def drain_and_close(self) -> None:
        return None


class ProxyConnection(LspConnection):
    """One proxy session in this process, its server, and the initialized LSP session with it.

    The proxy runs here, on this event loop: the client's frames go straight into
    :class:`proxy.session.Session`, which forwards them to the server's pipes, tracks,
    short-circuits and records them, and hands the server's frames back the same way. One hop
    less than a proxy process: no second interpreter to start, no extra pipe per message.
    """

    def __init__(
        self,
        config: ProxyConfig,
        workspace: Path,
        request_timeout: float,
        core: Core | None = None,
    ) -> None:
        """``core``: shared with other connections (a pool); None: one of its own, closed
        when this session ends."""
        super().__init__(workspace, request_timeout)
        self.config = config
        self._owns_core = core is None
        self.core = core if core is not None else Core.open(config)
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self._tail = _Tail(self.stderr_tail)
        self._session: Session | None = None
        self._watch: asyncio.Task[None] | None = None
        #: Why this server is being stopped: a method failing for every symbol (a server
        #: fault, tracker/faults.py) — a restart mends it (pyright after a cancel).
        self.fault: str | None = None
        #: Whether a server stopped at a fault would be started again (the pool's budget):
        #: if not, it is left running — its errors charge nothing — and the run ends at_fault.
        self.may_restart: Callable[[], bool] = lambda: True

    async def start(self) -> None:
        """Start the proxy session (and with it the server), then the initialize handshake."""
        logging.getLogger(PROXY_LOGGER).addHandler(self._tail)
        session = Session(self.core, self.config)
        rpc = self.connect(session.client_data)
        try:
            # Its own process session keeps a terminal's Ctrl-C away from the server: enrich
            # stops it itself, after the requests in flight.
            await session.start(_ToClient(rpc), new_session=True)
        except ServerStartError as exc:
            await self._close_core()
            self.stderr_tail.append(str(exc))
            self.lost(2)
            raise ServerDied(str(exc)) from exc
        self._session = session
        session.router.faults.on_fault = self._at_fault
        self._watch = asyncio.create_task(self._watch_exit(session))
        await self.initialize()

    async def _watch_exit(self, session: Session) -> None:
        # The session answers every pending request with an error when the server exits;
        # whatever is still waiting after that fails here.
        status = await session.finish()
        # Before `lost`: whoever waits for the end reads the file. A shared core stays open for
        # the other sessions; what this one recorded (its death's failures too) is committed.
        if self._owns_core:
            await self.core.close()
        else:
            self.core.drain()
            await self.core.flush()
        self.lost(status)

    def _at_fault(self, operation: str, signature: str) -> None:
        """The proxy found the server at fault: stop it as an editor closing its pipe would
        (stdin closed, SIGTERM after a grace period); the pool restarts it as it restarts a
        dead one. What it leaves unanswered charges no symbol (Router.retiring)."""
        if self.fault is not None or self._session is None:
            return
        self.fault = f"{operation} failed for every symbol with {signature!r}"
        if not self.may_restart():
            return
        self._session.router.retiring = True
        self._session.client_eof()

    async def _close_core(self) -> None:
        if self._owns_core:
            await self.core.close()

    def describe_exit(self) -> str:
        if self.fault is not None:
            return f"stopped at a server fault: {self.fault}"
        tail = " | ".join(list(self.stderr_tail)[-3:])
        return super().describe_exit() + (f": {tail}" if tail else "")

    async def flush(self) -> bool:
        """lspBackoff/flush: True once the proxy's writes so far are committed."""
        result = await self.request("lspBackoff/flush")
        return isinstance(result, dict) and bool(result.get("committed"))

    async def stats(self) -> dict[str, int]:
        result = await self.request("lspBackoff/stats")
        items = result.items() if isinstance(result, dict) else ()
        stats = {str(k): int(v) for k, v in items if isinstance(v, int | float)}
        self.last_stats = stats
        return stats

    async def close(self, grace: float = 5.0) -> None:
        """shutdown + exit, then wait for the server; the proxy stops it if it lingers."""
        await self.shutdown(grace)
        if self._session is not None and not self.exited.is_set():
            # As when an editor closes the pipe: the server's stdin is closed, then SIGTERM
            # after a grace period, then SIGKILL; the session ends when the server has exited.
            self._session.client_eof()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited.wait()), grace + 15)
        if self._watch is not None and not self._watch.done():
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        logging.getLogger(PROXY_LOGGER).removeHandler(self._tail)
