"""A plain asyncio LSP client that drives `python -m lsp_backoff` over real pipes.

pytest-lsp re-serializes every message, so tests about bytes, ids and cancellation use this
instead: it sends exactly the bytes it is given, keeps every byte the proxy wrote to stdout,
parses them strictly as frames (anything else is recorded in `garbage`), and answers the
server's requests with `null` (a list of nulls for workspace/configuration).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SERVERS = REPO / "tests" / "servers"
PY = sys.executable
WAIT = 10.0  # bound for anything that should happen "soon"; a hang fails instead of blocking

Message = dict[str, Any]


def server_cmd(name: str, *args: str) -> list[str]:
    return [PY, str(SERVERS / f"{name}.py"), *args]


def proxy_cmd(server: Sequence[str], *opts: str) -> list[str]:
    return [PY, "-m", "lsp_backoff", *opts, "--", *server]


def frame(body: bytes, headers: bytes = b"") -> bytes:
    return b"Content-Length: %d\r\n%s\r\n" % (len(body), headers) + body


def dumps(message: Message) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def parse_frames(data: bytes) -> tuple[list[bytes], list[str]]:
    """Split `data` into bodies; the second list names every byte range that is not a frame."""
    bodies: list[bytes] = []
    problems: list[str] = []
    offset = 0
    while offset < len(data):
        end = data.find(b"\r\n\r\n", offset)
        if end < 0:
            problems.append(f"trailing bytes at {offset}: {data[offset : offset + 80]!r}")
            break
        length = None
        for line in data[offset:end].split(b"\r\n"):
            name, sep, value = line.partition(b":")
            if not sep or not name.strip() or b" " in name.strip():
                problems.append(f"not a header line at {offset}: {line[:80]!r}")
            elif name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            problems.append(f"header block without Content-Length at {offset}")
            break
        bodies.append(data[end + 4 : end + 4 + length])
        offset = end + 4 + length
    return bodies, problems


def loads(body: bytes) -> Message | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the json module
        return None
    return value if isinstance(value, dict) else None


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def eventually(check: Callable[[], Any], timeout: float = WAIT, step: float = 0.05) -> Any:
    """Poll a synchronous check until it returns something truthy (bounded)."""
    async with asyncio.timeout(timeout):
        while not (result := check()):
            await asyncio.sleep(step)
        return result


class Session:
    """One proxy process with its server behind it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.received: list[tuple[bytes, Message | None]] = []
        self.garbage: list[str] = []
        self.answered: list[Message] = []  # server-to-client requests we answered
        self.auto_answer = True
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._changed = asyncio.Event()
        self._next_id = 0
        self._tasks = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    @classmethod
    async def start(cls, cmd: Sequence[str], env: dict[str, str] | None = None) -> Session:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            limit=1 << 24,
        )
        return cls(proc)

    # -- reading -------------------------------------------------------------------------
    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        buffer = b""
        while chunk := await self.proc.stdout.read(1 << 16):
            self.stdout += chunk
            buffer += chunk
            while True:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                length = None
                for line in buffer[:end].split(b"\r\n"):
                    name, sep, value = line.partition(b":")
                    if not sep:
                        self.garbage.append(f"not a header line: {line[:80]!r}")
                    elif name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    self.garbage.append(f"header block without length: {buffer[:end][:80]!r}")
                    buffer = buffer[end + 4 :]
                    continue
                if len(buffer) < end + 4 + length:
                    break
                self._on_body(buffer[end + 4 : end + 4 + length])
                buffer = buffer[end + 4 + length :]
        if buffer:
            self.garbage.append(f"trailing bytes at EOF: {buffer[:80]!r}")
        self._changed.set()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(1 << 16):
            self.stderr += chunk

    def _on_body(self, body: bytes) -> None:
        message = loads(body)
        self.received.append((body, message))
        if message is not None:
            key = json.dumps(message.get("id"))
            if "method" not in message and key in self._pending:
                future = self._pending.pop(key)
                if not future.done():
                    future.set_result(message)
            elif "method" in message and "id" in message and self.auto_answer:
                self.answered.append(message)
                result: Any = None
                if message["method"] == "workspace/configuration":
                    result = [None for _ in message.get("params", {}).get("items", [])]
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        self._changed.set()
        self._changed = asyncio.Event()

    # -- writing -------------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def send(self, message: Message) -> None:
        self.send_raw(frame(dumps(message)))

    def notify(self, method: str, params: Any = None) -> None:
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def expect(self, ident: Any) -> asyncio.Future[Message]:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[json.dumps(ident)] = future
        return future

    async def request(
        self, method: str, params: Any = None, *, ident: Any = None, timeout: float = WAIT
    ) -> Message:
        """Send a request, return the whole response message (result or error)."""
        ident = self.new_id() if ident is None else ident
        if params is None and method.startswith("test/"):
            params = {}  # pygls cannot structure a custom request without params
        future = self.expect(ident)
        message: Message = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return await asyncio.wait_for(future, timeout)

    async def result(self, method: str, params: Any = None) -> Any:
        response = await self.request(method, params)
        assert "error" not in response, response
        return response["result"]

    # -- LSP helpers ---------------------------------------------------------------------
    async def initialize(self, root: Path | None = None, **extra: Any) -> Message:
        params: Message = {
            "processId": os.getpid(),
            "rootUri": root.as_uri() if root else None,
            "capabilities": {"window": {"workDoneProgress": True}},
            **extra,
        }
        response = await self.request("initialize", params)
        self.notify("initialized", {})
        return response

    def open(self, uri: str, text: str, version: int = 1) -> None:
        item = {"uri": uri, "languageId": "python", "version": version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    async def ask(
        self, uri: str, position: tuple[int, int], method: str = "textDocument/definition"
    ) -> Message:
        params: Message = {
            "textDocument": {"uri": uri},
            "position": {"line": position[0], "character": position[1]},
        }
        if method == "textDocument/references":
            params["context"] = {"includeDeclaration": True}
        return await self.request(method, params)

    async def counts(self) -> dict[str, int]:
        return (await self.result("test/counts"))["counts"]

    async def server_state(self) -> Message:
        return await self.result("test/counts")

    async def stats(self) -> dict[str, int]:
        return await self.result("lspBackoff/stats")

    async def flush(self) -> None:
        assert await self.result("lspBackoff/flush") == {"committed": True}

    async def wait_for(self, check: Callable[[Message], bool], timeout: float = WAIT) -> Message:
        """Wait for a received message satisfying `check` (already received ones count)."""
        async with asyncio.timeout(timeout):
            while True:
                for _body, message in self.received:
                    if message is not None and check(message):
                        return message
                await self._changed.wait()

    async def wait_exit(self, timeout: float = WAIT) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.wait_for(asyncio.gather(*self._tasks), timeout)
        return code

    async def shutdown(self, timeout: float = WAIT) -> int:
        """shutdown + exit, then wait (bounded) for the proxy to exit; returns its status."""
        if self.proc.returncode is None:
            await self.request("shutdown", timeout=timeout)
            self.notify("exit")
        return await self.wait_exit(timeout)

    async def close(self) -> None:
        """Teardown: never leave a process behind, whatever state the test ended in."""
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.shutdown(timeout=5)
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for task in self._tasks:
            task.cancel()

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")


async def run(*args: str, timeout: float = 30, stdin: bytes | None = b"") -> tuple[int, str, str]:
    """Run a command to completion (bounded); returns (status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


async def graph(command: str, db: Path, *args: str) -> list[Message]:
    """`lsp-backoff <command> --json --db DB`: one JSON object per line."""
    status, out, err = await run(PY, "-m", "lsp_backoff", command, "--json", "--db", str(db), *args)
    assert status == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def db_edges(db: Path, name: str | None = None) -> list[Message]:
    """The edges `lsp-backoff edges --json` would print, read in-process.

    The CLI costs a second per call (it imports the enrich client); polling loops use this and
    test_durable.py checks the CLI itself.
    """
    from lsp_backoff.tracker import queries

    conn = queries.connect(db)
    try:
        rows = queries.edges(conn)
    finally:
        conn.close()
    return [row for row in rows if name is None or row["name"] == name]


class Doc:
    """A Python source file on disk, with positions of its identifiers."""

    def __init__(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.path = path
        self.uri = path.as_uri()
        self.text = text

    def pos(self, name: str, offset: int = 0) -> tuple[int, int]:
        for number, line in enumerate(self.text.splitlines()):
            index = line.find(name)
            if index >= 0:
                return number, index + offset
        raise KeyError(name)


def count(counts: dict[str, int], name: str, method: str = "textDocument/definition") -> int:
    return counts.get(f"{method} {name}", 0)


async def ask_until_asked(
    session: Session,
    doc: Doc,
    name: str,
    times: int,
    method: str = "textDocument/definition",
    bound: float = 8.0,
) -> Message:
    """Ask again and again (short-circuited answers in between) until the server saw `times`."""
    async with asyncio.timeout(bound):
        while True:
            response = await session.ask(doc.uri, doc.pos(name), method)
            asked = count(await session.counts(), name, method)
            if asked >= times:
                assert asked == times
                return response
            await asyncio.sleep(0.05)


#: The `start` fixture's type: `await start(cmd, env=…)` → a running Session.
Start = Callable[..., Awaitable[Session]]


@contextlib.asynccontextmanager
async def running(
    cmd: Sequence[str], root: Path, env: dict[str, str] | None = None
) -> AsyncIterator[Session]:
    """A proxy session initialized on `root`, closed (whatever happened) on leaving: the
    module-wide shared proxies and the editor sessions of the watch tests."""
    session = await Session.start(cmd, env)
    try:
        await session.initialize(root)
        yield session
    finally:
        await session.close()


def opened_in(session: Session, root: Path, name: str, text: str) -> Doc:
    """`root/name.py` written with `text` and opened in `session`."""
    doc = Doc(root / f"{name}.py", text)
    session.open(doc.uri, doc.text)
    return doc


def plain(value: Any) -> Any:
    """pygls hands custom results over as namedtuples; make them dicts and lists again."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
