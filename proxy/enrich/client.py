"""The LSP client side of `lsp-backoff enrich`: one proxy+server process and typed requests to it.

`ProxyConnection` launches `python -m proxy <proxy options> --db DB -- SERVER…` and speaks LSP to
it with a pygls LanguageClient, so every tracked request passes the same tracker, short-circuit
and graph code an editor session uses; nothing here writes to the database. It knows how to turn
an (operation, position) into the right request and how to reach the proxy-private requests
(`lspBackoff/flush`, `lspBackoff/stats`). It has no scheduling policy: that is monitor.py's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

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

#: How many lines of the proxy's stderr are kept to explain a failure to start or a crash.
STDERR_TAIL = 20


class ServerDied(Exception):
    """The proxy (or the server behind it) exited while enrich still needed it."""


class _Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("lsp-backoff-enrich", "1")
        self.exited = asyncio.Event()

    async def server_exit(self, server: asyncio.subprocess.Process) -> None:
        self.exited.set()


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


class ProxyConnection:
    """One running `python -m proxy … -- SERVER` and the initialized LSP session with it."""

    def __init__(self, command: Sequence[str], workspace: Path, request_timeout: float) -> None:
        self.command = list(command)
        self.workspace = workspace
        self.request_timeout = request_timeout
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self._client = _Client()
        _register_handlers(self._client)
        self._drain: asyncio.Task[None] | None = None
        #: The proxy's counters as last fetched: all that is left of them once it has died.
        self.last_stats: dict[str, int] = {}

    @property
    def exited(self) -> asyncio.Event:
        return self._client.exited

    @property
    def returncode(self) -> int | None:
        server = self._client._server
        return None if server is None else server.returncode

    async def start(self) -> None:
        """Launch the proxy and run the initialize handshake."""
        # A new session keeps a terminal's Ctrl-C away from the proxy: enrich shuts it down
        # itself so the proxy can flush its database first.
        await self._client.start_io(self.command[0], *self.command[1:], start_new_session=True)
        process = self._client._server
        if process is not None and process.stderr is not None:
            # pygls pipes stderr and never reads it; a full pipe would stall the proxy.
            self._drain = asyncio.create_task(self._drain_stderr(process.stderr))
        root = self.workspace.as_uri()
        await self.request(
            self._client.initialize_async(
                types.InitializeParams(
                    capabilities=CAPABILITIES,
                    process_id=None,
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

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    async def request(self, awaitable: Any) -> Any:
        """Await one response; ServerDied if the process exits first, TimeoutError past the bound.

        The proxy enforces --timeout itself and answers -32803; the bound here is only a backstop
        against a proxy that stops answering altogether. No extra task per request: pygls fails
        every pending request with a RuntimeError when the process exits, so nothing hangs.
        """
        if self.exited.is_set():
            # A request written after the exit would never be answered nor failed.
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            elif isinstance(awaitable, asyncio.Future):
                awaitable.cancel()
            raise ServerDied(self.describe_exit())
        try:
            async with asyncio.timeout(self.request_timeout):
                return await awaitable
        except RuntimeError as exc:  # "Server process … exited", "Client has been stopped."
            raise ServerDied(self.describe_exit()) from exc

    def describe_exit(self) -> str:
        tail = " | ".join(list(self.stderr_tail)[-3:])
        status = self.returncode
        return f"proxy exited (status {status})" + (f": {tail}" if tail else "")

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
        """shutdown + exit, then wait for the process; kill it if it lingers past `grace`."""
        if not self.exited.is_set():
            with contextlib.suppress(Exception):  # a dying server cannot spoil the cleanup
                await asyncio.wait_for(self.request(self._client.shutdown_async(None)), grace)
                self._client.exit(None)
        process = self._client._server
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                process.kill()
        with contextlib.suppress(Exception):  # stop() re-raises nothing we could act on
            await asyncio.wait_for(self._client.stop(), grace)
        if self._drain is not None:
            # The last lines often explain a death: read them to EOF, briefly.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._drain), 1.0)
            self._drain.cancel()


def _as_dict(value: Any) -> dict[str, Any]:
    """pygls hands back untyped results as namedtuple-like objects or dicts."""
    if isinstance(value, dict):
        return value
    if hasattr(value, "_asdict"):
        return dict(value._asdict())
    return {}


def _field(value: Any, name: str) -> Any:
    return _as_dict(value).get(name)


def proxy_command(proxy_args: Sequence[str], db: str, server: Sequence[str]) -> list[str]:
    """The argv that runs the proxy in front of `server`, recording into `db`."""
    return [sys.executable, "-m", "proxy", *proxy_args, "--db", db, "--", *server]
