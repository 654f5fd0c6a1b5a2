"""The LSP client side of `lsp-backoff enrich`: a proxy session in this process, and typed requests.

`ProxyConnection` runs the proxy's own :class:`proxy.session.Session` (the one
`lsp-backoff -- SERVER` runs) in this process and speaks LSP to it with a pygls LanguageClient,
so every tracked request passes the same tracker, short-circuit and graph code an editor session
uses; nothing here writes to the database. It knows how to turn
an (operation, position) into the right request and how to reach the proxy-private requests
(`lspBackoff/flush`, `lspBackoff/stats`). It has no scheduling policy: that is monitor.py's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.io_ import run_async
from pygls.lsp.client import LanguageClient

from proxy.config import ProxyConfig
from proxy.session import ServerStartError, Session

from .files import language_id

#: Client capabilities an editor would advertise for the features enrich uses. workDoneProgress
#: matters: servers that report progress let the proxy tell "still loading" from "no result".
CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True,
        workspace_folders=True,
        symbol=types.WorkspaceSymbolClientCapabilities(),
    ),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(),
        document_symbol=types.DocumentSymbolClientCapabilities(
            hierarchical_document_symbol_support=True,
            symbol_kind=types.ClientSymbolKindOptions(value_set=list(types.SymbolKind)),
        ),
        definition=types.DefinitionClientCapabilities(link_support=True),
        declaration=types.DeclarationClientCapabilities(link_support=True),
        type_definition=types.TypeDefinitionClientCapabilities(link_support=True),
        implementation=types.ImplementationClientCapabilities(link_support=True),
        references=types.ReferenceClientCapabilities(),
        call_hierarchy=types.CallHierarchyClientCapabilities(),
    ),
    window=types.WindowClientCapabilities(work_done_progress=True),
    general=types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf16],
    ),
)

#: How many lines the proxy and the server logged are kept, to explain a failure or a crash.
STDERR_TAIL = 20
#: The proxy's loggers (routing, store, session, the server's stderr) all sit under this name.
PROXY_LOGGER = "lsp_backoff"


class ServerDied(Exception):
    """The server exited (or could not start) while enrich still needed it."""


class _Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("lsp-backoff-enrich", "1")


def _register_handlers(client: _Client) -> None:
    """Answer the requests servers send their client, the way a minimal editor would."""

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams) -> list[Any]:
        # No settings: null per item tells the server to use its defaults (spec 3.17,
        # workspace/configuration).
        return [None] * len(params.items)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def progress_create(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        return None

    @client.feature(types.CLIENT_UNREGISTER_CAPABILITY)
    def unregister(params: types.UnregistrationParams) -> None:
        return None

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message(params: types.ShowMessageRequestParams) -> None:
        return None

    @client.feature(types.WORKSPACE_WORKSPACE_FOLDERS)
    def folders(params: None) -> None:
        return None


class _ToClient:
    """The session's client side: frames for the client go into the reader pygls consumes."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    def write(self, data: bytes) -> None:
        self.reader.feed_data(data)

    async def drain_and_close(self) -> None:
        self.reader.feed_eof()


class _ToSession:
    """pygls' writer: the client's frames go straight into the session, as if read from stdin."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write(self, data: bytes) -> None:
        self.session.client_data(data)

    def close(self) -> None:
        self.session.client_eof()


class _Tail(logging.Handler):
    """Keeps the last lines the proxy and the server logged, to explain a failure."""

    def __init__(self, lines: collections.deque[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class ProxyConnection:
    """One proxy session in this process, its server, and the initialized LSP session with it.

    The proxy runs here, on this event loop: a pygls client writes its frames straight into
    :class:`proxy.session.Session` (the code ``lsp-backoff -- SERVER`` runs on stdin/stdout),
    which forwards them to the server's pipes, tracks, short-circuits and records them, and
    hands the server's frames back through an in-memory reader. One hop less than a proxy
    process: no second interpreter to start, no extra pipe per message.
    """

    def __init__(self, config: ProxyConfig, workspace: Path, request_timeout: float) -> None:
        self.config = config
        self.workspace = workspace
        self.request_timeout = request_timeout
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self._client = _Client()
        _register_handlers(self._client)
        self._session: Session | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._tail = _Tail(self.stderr_tail)
        self.exited = asyncio.Event()
        self.returncode: int | None = None
        #: The proxy's counters as last fetched: all that is left of them once it has died.
        self.last_stats: dict[str, int] = {}

    async def start(self) -> None:
        """Start the proxy session (and with it the server), then the initialize handshake."""
        logging.getLogger(PROXY_LOGGER).addHandler(self._tail)
        session = Session(self.config)
        reader = asyncio.StreamReader()
        try:
            # Its own process session keeps a terminal's Ctrl-C away from the server: enrich
            # stops it itself, after the requests in flight.
            await session.start(_ToClient(reader), new_session=True)
        except ServerStartError as exc:
            self.returncode = 2
            self.exited.set()
            raise ServerDied(str(exc)) from exc
        self._session = session
        protocol = self._client.protocol
        protocol.set_writer(_ToSession(session))
        reading = asyncio.create_task(
            run_async(
                stop_event=self._client._stop_event,
                reader=reader,
                protocol=protocol,
                error_handler=self._client.report_server_error,
            )
        )
        self._tasks = [reading, asyncio.create_task(self._watch(session, reading))]
        root = self.workspace.as_uri()
        await self.request(
            self._client.initialize_async(
                types.InitializeParams(
                    capabilities=CAPABILITIES,
                    process_id=os.getpid(),
                    root_uri=root,
                    root_path=str(self.workspace),
                    workspace_folders=[
                        types.WorkspaceFolder(uri=root, name=self.workspace.name or root)
                    ],
                    client_info=types.ClientInfo(name="lsp-backoff-enrich"),
                )
            )
        )
        self._client.initialized(types.InitializedParams())

    async def _watch(self, session: Session, reading: asyncio.Task[None]) -> None:
        """When the server has exited: let the reader take the proxy's last answers (pending
        requests get an error each), fail what is still waiting, and say so."""
        self.returncode = await session.finish()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reading), 1.0)
        reason = self.describe_exit()
        for future in self._client.protocol._request_futures.values():
            if not future.done():
                future.set_exception(ServerDied(reason))
        self.exited.set()

    async def request(self, awaitable: Any) -> Any:
        """Await one response; ServerDied if the server exits first, TimeoutError past the bound.

        The proxy enforces --timeout itself and answers -32803; the bound here is only a backstop
        against a session that stops answering altogether.
        """
        if self.exited.is_set():
            # A request written after the exit would never be answered nor failed.
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            elif isinstance(awaitable, asyncio.Future):
                awaitable.cancel()
            raise ServerDied(self.describe_exit())
        async with asyncio.timeout(self.request_timeout):
            return await awaitable

    def describe_exit(self) -> str:
        tail = " | ".join(list(self.stderr_tail)[-3:])
        return f"server exited (status {self.returncode})" + (f": {tail}" if tail else "")

    def open(self, path: Path, text: str) -> None:
        self._client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=path.as_uri(), language_id=language_id(path), version=1, text=text
                )
            )
        )

    async def document_symbols(self, uri: str) -> Any:
        params = types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
        return await self.request(self._client.text_document_document_symbol_async(params))

    async def locate(self, operation: str, uri: str, line: int, character: int) -> Any:
        """definition, declaration, type_definition, implementation or references at a position."""
        doc = types.TextDocumentIdentifier(uri=uri)
        pos = types.Position(line=line, character=character)
        c = self._client
        if operation == "references":
            # includeDeclaration false: the declaration is the symbol itself, so a symbol nobody
            # uses gets a meaningful "none" instead of an edge to itself.
            ref = types.ReferenceParams(
                text_document=doc,
                position=pos,
                context=types.ReferenceContext(include_declaration=False),
            )
            return await self.request(c.text_document_references_async(ref))
        if operation == "definition":
            return await self.request(
                c.text_document_definition_async(types.DefinitionParams(doc, pos))
            )
        if operation == "declaration":
            return await self.request(
                c.text_document_declaration_async(types.DeclarationParams(doc, pos))
            )
        if operation == "type_definition":
            return await self.request(
                c.text_document_type_definition_async(types.TypeDefinitionParams(doc, pos))
            )
        if operation == "implementation":
            return await self.request(
                c.text_document_implementation_async(types.ImplementationParams(doc, pos))
            )
        raise ValueError(f"not a location operation: {operation}")

    async def prepare_call_hierarchy(
        self, uri: str, line: int, character: int
    ) -> list[types.CallHierarchyItem]:
        params = types.CallHierarchyPrepareParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
        items = await self.request(self._client.text_document_prepare_call_hierarchy_async(params))
        return list(items or [])

    async def calls(self, operation: str, item: types.CallHierarchyItem) -> Any:
        c = self._client
        if operation == "incoming_calls":
            params_in = types.CallHierarchyIncomingCallsParams(item=item)
            return await self.request(c.call_hierarchy_incoming_calls_async(params_in))
        params_out = types.CallHierarchyOutgoingCallsParams(item=item)
        return await self.request(c.call_hierarchy_outgoing_calls_async(params_out))

    async def flush(self) -> bool:
        """lspBackoff/flush: True once the proxy's writes so far are committed."""
        result = await self.request(self._client.protocol.send_request_async("lspBackoff/flush"))
        return bool(_field(result, "committed"))

    async def stats(self) -> dict[str, int]:
        result = await self.request(self._client.protocol.send_request_async("lspBackoff/stats"))
        stats = {str(k): int(v) for k, v in _as_dict(result).items() if isinstance(v, int | float)}
        self.last_stats = stats
        return stats

    async def close(self, grace: float = 5.0) -> None:
        """shutdown + exit, then wait for the server; the proxy stops it if it lingers."""
        session = self._session
        if session is not None and not self.exited.is_set():
            with contextlib.suppress(Exception):  # a dying server cannot spoil the cleanup
                await asyncio.wait_for(self.request(self._client.shutdown_async(None)), grace)
                self._client.exit(None)
            # As when an editor closes the pipe: the server's stdin is closed, then SIGTERM
            # after a grace period, then SIGKILL; the session ends when the server has exited.
            session.client_eof()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.exited.wait(), grace + 15)
        self._client._stop_event.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        logging.getLogger(PROXY_LOGGER).removeHandler(self._tail)


def _as_dict(value: Any) -> dict[str, Any]:
    """pygls hands back untyped results as namedtuple-like objects or dicts."""
    if isinstance(value, dict):
        return value
    if hasattr(value, "_asdict"):
        return dict(value._asdict())
    return {}


def _field(value: Any, name: str) -> Any:
    return _as_dict(value).get(name)
