"""The proxy's own stdin and stdout, as event-loop transports where the OS allows.

Pipes, sockets and terminals get asyncio transports (uvloop's when installed); a regular file
(``lsp-backoff -- srv < requests.bin > out``) cannot be watched by an event loop, so a thread
reads it and writes to it block. Stdout's flow control pauses the server's output while the
client is not reading.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import Any, Protocol

log = logging.getLogger("lsp_backoff.session")


class ClientSide(Protocol):
    """What the readers feed: the session's client-side callbacks."""

    client_in: Any

    def client_data(self, data: bytes) -> None: ...
    def client_eof(self) -> None: ...


class _ClientIn(asyncio.Protocol):
    def __init__(self, session: ClientSide) -> None:
        self.s = session

    def data_received(self, data: bytes) -> None:
        self.s.client_data(data)

    def eof_received(self) -> bool:
        self.s.client_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.s.client_eof()


async def open_stdin(loop: asyncio.AbstractEventLoop, session: ClientSide) -> None:
    pipe = os.fdopen(sys.stdin.fileno(), "rb", buffering=0, closefd=False)
    if _loop_can_watch(pipe):
        try:
            transport, _ = await loop.connect_read_pipe(lambda: _ClientIn(session), pipe)
        except (ValueError, OSError):
            pass
        else:
            session.client_in = transport
            return
    # A regular file (``lsp-backoff -- srv < requests.bin``): no event-loop reader for
    # those, so a thread reads it.
    session.client_in = _ThreadReader(loop, pipe, session)


def _loop_can_watch(fh: Any) -> bool:
    """A pipe, a socket or a terminal: what an event loop can watch.

    Checked up front: on a regular file or /dev/null uvloop aborts the process instead of
    raising, so those go to a thread (reads) or plain blocking writes.
    """
    mode = os.fstat(fh.fileno()).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fh.fileno())


class _ThreadReader:
    def __init__(self, loop: asyncio.AbstractEventLoop, pipe: Any, session: ClientSide) -> None:
        self._resume = threading.Event()
        self._resume.set()
        thread = threading.Thread(target=self._run, args=(loop, pipe, session), daemon=True)
        thread.start()

    def _run(self, loop: asyncio.AbstractEventLoop, pipe: Any, session: ClientSide) -> None:
        while True:
            self._resume.wait()
            data = pipe.read(1 << 16)
            if not data:
                loop.call_soon_threadsafe(session.client_eof)
                return
            loop.call_soon_threadsafe(session.client_data, data)

    def pause_reading(self) -> None:
        self._resume.clear()

    def resume_reading(self) -> None:
        self._resume.set()


class Stdout(asyncio.Protocol):
    """Writes frames to our stdout; pauses the server's output while the client is slow."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.on_pause: Any = None
        self.on_resume: Any = None
        self._closed = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        if self.on_pause:
            self.on_pause()

    def resume_writing(self) -> None:
        if self.on_resume:
            self.on_resume()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    def write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    async def drain_and_close(self) -> None:
        self.transport.close()  # close() flushes what is buffered first
        try:
            await asyncio.wait_for(self._closed, 5)
        except TimeoutError:
            log.warning("client stopped reading: dropped what it had not read")


class _BlockingStdout:
    """Fallback for a stdout that is a regular file: plain blocking writes."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.fh.flush()

    async def drain_and_close(self) -> None:
        self.fh.flush()


async def open_stdout(loop: asyncio.AbstractEventLoop) -> Any:
    pipe = os.fdopen(sys.stdout.fileno(), "wb", buffering=0, closefd=False)
    stdout: Any = _BlockingStdout(pipe)
    if _loop_can_watch(pipe):
        try:
            transport, proto = await loop.connect_write_pipe(Stdout, pipe)
        except (ValueError, OSError):
            pass
        else:
            proto.transport = transport
            stdout = proto
    # Stdout is protocol only: anything that prints by mistake lands on stderr instead.
    sys.stdout = sys.stderr
    return stdout
