"""A minimal LSP client over stdio that keeps every body's raw bytes.

pytest-lsp decodes and re-encodes messages, which is fine for behaviour but hides what went over
the wire; the comparisons in this folder need the exact bytes a server (or the proxy in front of
it) sent. This client does the least an editor must: it answers the server's own requests
(workspace/configuration, window/workDoneProgress/create, client/registerCapability) and keeps
notifications and progress in order so tests can wait for readiness on events, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Upper bound for any single wait in these tests; a real server answers in well under this.
WAIT = 60.0

ServerRequestHandler = Callable[[str, Any], Any]


@dataclass
class Frame:
    """One message: its body bytes exactly as received and the decoded JSON."""

    raw: bytes
    msg: dict[str, Any]

    @property
    def result(self) -> Any:
        return self.msg.get("result")

    @property
    def error(self) -> dict[str, Any] | None:
        return self.msg.get("error")


def default_server_request(method: str, params: Any) -> Any:
    """Answers what a plain editor answers to a server's request."""
    if method == "workspace/configuration":
        # One null per item: "no settings", which every server here accepts.
        return [None for _ in params.get("items", [])]
    return None


@dataclass
class LspClient:
    """A running server process and the client end of its stdio."""

    proc: asyncio.subprocess.Process
    name: str
    on_server_request: ServerRequestHandler = default_server_request
    notifications: list[Frame] = field(default_factory=list)
    server_requests: list[Frame] = field(default_factory=list)
    #: Everything received, in arrival order (responses included), for ordering checks.
    trace: list[Frame] = field(default_factory=list)
    _pending: dict[int | str, asyncio.Future[Frame]] = field(default_factory=dict)
    _next_id: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None
    _closed: bool = False

    @classmethod
    async def start(
        cls,
        cmd: Sequence[str],
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        stderr_path: Path | None = None,
        name: str = "",
        on_server_request: ServerRequestHandler = default_server_request,
    ) -> LspClient:
        stderr = stderr_path.open("ab") if stderr_path else asyncio.subprocess.DEVNULL
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                cwd=cwd,
                env=env,
                limit=2**24,
            )
        finally:
            if not isinstance(stderr, int):
                stderr.close()
        client = cls(proc=proc, name=name or cmd[0], on_server_request=on_server_request)
        client._reader = asyncio.create_task(client._read_loop())
        return client

    # -- sending -------------------------------------------------------------------------------

    def _write(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps(msg, separators=(",", ":")).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        rid: int | str | None = None,
        timeout: float = WAIT,
    ) -> Frame:
        """Sends a request (``rid`` overrides the next sequential id) and waits for its answer."""
        if rid is None:
            self._next_id += 1
            rid = self._next_id
        fut: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self._write(msg)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError as exc:
            raise AssertionError(f"{self.name}: no answer to {method} within {timeout} s") from exc
        finally:
            self._pending.pop(rid, None)

    def notify(self, method: str, params: Any = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self._write(msg)

    # -- receiving -----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while True:
                length = -1
                while True:
                    line = await out.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                raw = await out.readexactly(length)
                await self._dispatch(Frame(raw, json.loads(raw)))
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the server went away; pending requests are failed below
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(AssertionError(f"{self.name}: server closed its stdout"))
            async with self._changed:
                self._closed = True
                self._changed.notify_all()

    async def _dispatch(self, frame: Frame) -> None:
        msg = frame.msg
        self.trace.append(frame)
        if "method" in msg and "id" in msg:
            self.server_requests.append(frame)
            result = self.on_server_request(msg["method"], msg.get("params"))
            self._write({"jsonrpc": "2.0", "id": msg["id"], "result": result})
        elif "method" in msg:
            self.notifications.append(frame)
        else:
            fut = self._pending.get(msg.get("id"))  # type: ignore[arg-type]
            if fut is not None and not fut.done():
                fut.set_result(frame)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[LspClient], bool], what: str, *, timeout: float = WAIT
    ) -> None:
        """Waits until ``predicate(self)`` holds, re-checked after every message."""

        async def _wait() -> None:
            async with self._changed:
                while not predicate(self):
                    if self._closed:
                        raise AssertionError(f"{self.name}: server exited waiting for {what}")
                    await self._changed.wait()

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError as exc:
            raise AssertionError(f"{self.name}: {what} did not happen within {timeout} s") from exc

    def notifications_of(self, method: str) -> list[dict[str, Any]]:
        return [
            f.msg.get("params") or {} for f in self.notifications if f.msg.get("method") == method
        ]

    def diagnostics(self) -> dict[str, list[Any]]:
        """The latest publishDiagnostics per URI."""
        latest: dict[str, list[Any]] = {}
        for params in self.notifications_of("textDocument/publishDiagnostics"):
            latest[params["uri"]] = params["diagnostics"]
        return latest

    def open_progress_tokens(self) -> set[Any]:
        """$/progress tokens that began and have not ended yet."""
        running: set[Any] = set()
        for params in self.notifications_of("$/progress"):
            kind = params.get("value", {}).get("kind")
            token = json.dumps(params.get("token"))
            if kind == "begin":
                running.add(token)
            elif kind == "end":
                running.discard(token)
        return running

    # -- lifecycle -----------------------------------------------------------------------------

    async def initialize(
        self, root: Path, *, capabilities: dict[str, Any], options: Any = None
    ) -> Frame:
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": capabilities,
        }
        if options is not None:
            params["initializationOptions"] = options
        frame = await self.request("initialize", params)
        self.notify("initialized", {})
        return frame

    def did_open(self, path: Path, language_id: str) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language_id,
                    "version": 1,
                    "text": path.read_text(),
                }
            },
        )
        return uri

    async def close(self) -> int | None:
        """shutdown + exit, then wait for the process to go, as a patient editor does.

        stdin stays open until the server has exited on its own: jedi-language-server takes
        1-3 s to exit after ``exit`` once it has answered references (measured: 1.2 s idle,
        over 2 s with a second server busy), and closing its stdin at once makes the proxy
        start its 2 s SIGTERM timer, so the proxied session would end 143 where direct ends 0.
        """
        if self.proc.returncode is None and not self._closed:
            with contextlib.suppress(AssertionError, ConnectionError):
                await self.request("shutdown", timeout=10)
                self.notify("exit")
        with contextlib.suppress(TimeoutError):
            # Generous: on a loaded CI machine jedi has taken over 15 s (then the proxy's own
            # SIGTERM timer starts and the session ends 143). Only a hung server waits it out.
            await asyncio.wait_for(self.proc.wait(), 45)
        if self.proc.stdin is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        return self.proc.returncode


#: Client capabilities close to what Neovim 0.11 sends for the requests under test: enough that
#: servers enable progress, call hierarchy, linkSupport and pull/push diagnostics as an editor's.
CLIENT_CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": True},
    "workspace": {
        "configuration": True,
        "workspaceFolders": True,
        "didChangeConfiguration": {"dynamicRegistration": True},
    },
    "textDocument": {
        "synchronization": {"didSave": True, "dynamicRegistration": False},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "completion": {"completionItem": {"snippetSupport": False}},
        "definition": {"linkSupport": True},
        "declaration": {"linkSupport": True},
        "typeDefinition": {"linkSupport": True},
        "implementation": {"linkSupport": True},
        "references": {},
        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
        "callHierarchy": {"dynamicRegistration": False},
        "publishDiagnostics": {"relatedInformation": True},
    },
}


def position_of(path: Path, needle: str, *, occurrence: int = 1, offset: int = 0) -> dict[str, int]:
    """The LSP position of the ``occurrence``-th ``needle`` in ``path`` (+``offset`` columns).

    Tests name positions by text rather than numbers so that editing a sample moves them along.
    """
    seen = 0
    for line_no, line in enumerate(path.read_text().splitlines()):
        start = 0
        while (col := line.find(needle, start)) >= 0:
            seen += 1
            if seen == occurrence:
                return {"line": line_no, "character": col + offset}
            start = col + 1
    raise AssertionError(f"{needle!r} (occurrence {occurrence}) not in {path}")
