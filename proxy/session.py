"""One proxy session: spawn the server, pump both directions, end cleanly.

The pumps are asyncio protocols (``data_received`` callbacks), not reader tasks: a frame is
parsed and written in the same callback that received it, with no task switch in between —
the cheapest relay asyncio offers. uvloop is used when installed. Routing decisions come from
:class:`proxy.routing.Router`; this module only carries them out.

The client is this process's stdin and stdout (``run``: ``lsp-backoff -- SERVER``), or a
client in this same process that feeds ``client_data`` and receives frames through the
``client_out`` it hands to ``start`` (``lsp-backoff enrich``); ``finish`` waits for the end.

Lifecycle (issue 2): the server's exit ends the session with its exit code; pending requests
then get a RequestFailed error each. The client closing stdin closes the server's stdin, then
SIGTERM after a grace period, then SIGKILL: no orphan processes. A server at fault (issue 23,
tracker/faults.py) is replaced: the old one is stopped so, a new one spawned and told what
proxy/restart.py builds, while the client's requests wait (its answers to the new server's
requests go through); the requests the old one had get RequestFailed, charging no symbol.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any, Protocol, assert_never

from lsp_backoff.proxy.actions import Action, Arm, Disarm, Flush, Read, ToClient, ToServer
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, FrameParser, Junk, Piece, encode
from lsp_backoff.proxy.logs import SERVER_LOGGER
from lsp_backoff.proxy.messages import Kind, peek, result_response
from lsp_backoff.proxy.reads import NOTHING, Loaded
from lsp_backoff.proxy.requests import Sent
from lsp_backoff.proxy.restart import MAX_RESTARTS, RESTART_ID, initialize_request, reopen
from lsp_backoff.proxy.routing import Router
from lsp_backoff.proxy.stdio import Stdout, open_stdin, open_stdout
from lsp_backoff.tracker.errors import LspBackoffError

log = logging.getLogger("lsp_backoff.session")
server_log = logging.getLogger(SERVER_LOGGER)

GRACE_SECONDS = 2.0
#: After the client sent `exit` the server is on its way out: give it longer before SIGTERM.
EXIT_GRACE_SECONDS = 10.0


class ServerStartError(LspBackoffError):
    """The server command could not be started."""


def loop_factory() -> Any:
    """uvloop's event loop where it is installed (not on every platform); else the stdlib's,
    which works, only slower."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_proxy(config: ProxyConfig) -> int:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        try:
            return runner.run(_run_alone(config))
        except ServerStartError as exc:
            print(f"lsp-backoff: error: {exc}", file=sys.stderr)
            return 2


async def _run_alone(config: ProxyConfig) -> int:
    """One session on a core of its own: ``lsp-backoff -- SERVER``."""
    core = Core.open(config)
    try:
        return await Session(core).run()
    finally:
        await core.close()


class ClientOut(Protocol):
    """Where frames for the client go: our stdout, or a client in this same process."""

    def write(self, data: bytes) -> None: ...

    async def drain_and_close(self) -> None: ...


class Session:
    """One server and its client, on a ``core`` shared with any other sessions.

    ``config`` gives this session's server command, timeout and logging (default: the core's).
    Finishing a session leaves the core open: its owner closes it (``await core.close()``).
    """

    def __init__(self, core: Core, config: ProxyConfig | None = None) -> None:
        self.core = core
        self.config = config = config if config is not None else core.config
        self.documents = Documents()
        self.router = Router(
            core,
            self.documents,
            timeout=config.timeout,
            log_messages=config.log_messages,
            command=config.server,
        )
        self._drain_scheduled = False
        self._client_parser = FrameParser(stream=self._client_head)
        self._server_parser = FrameParser(stream=self._server_head)
        self._stderr_tail = b""
        # The proxy's own frames waiting for the end of a frame being streamed (see _to_client).
        # A frame is being passed on piece by piece, its last piece still to come.
        self._client_streaming = self._server_streaming = False
        self._to_client_later: list[bytes] = []
        self._to_server_later: list[bytes] = []
        self._done: asyncio.Future[None] | None = None
        self._status: int | None = None
        self._server_out_closed = False
        self._pending_at_exit = False
        self._client_eof = False
        #: The read gate's reads running in workers (see Read), until what waited has run.
        self._reads: set[asyncio.Future[Loaded]] = set()
        #: What reads the client's side: paused while the server is not reading (flow control).
        self.client_in: Any = None
        self.client_out: ClientOut
        #: Which server process is current: callbacks of a replaced one are ignored.
        self.generation = 0
        self.restarts = 0
        #: While a replacement server is told the client's initialize: that request's id, and
        #: the client's frames that wait for it to be done.
        self._restart_id: str | None = None
        self._held: list[Frame] = []
        self._replaced: list[Any] = []  # the transports of replaced servers

    async def run(self) -> int:
        """The proxy on this process's stdin and stdout, until the server has exited."""
        loop = asyncio.get_running_loop()
        await self.start(await open_stdout(loop))
        await open_stdin(loop, self)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            # Stopped from outside: take the server down the same way as when the client
            # leaves (stdin closed, then SIGTERM, then SIGKILL), so no orphan is left.
            loop.add_signal_handler(sig, self._stopped, sig)
        return await self.finish()

    async def start(self, client_out: ClientOut, *, new_session: bool = False) -> None:
        """Open the store and spawn the server; from here on ``client_data`` may be fed.

        ``client_out`` receives every frame meant for the client. ``new_session`` starts the
        server in its own process session, away from the terminal's Ctrl-C (for a client in
        this same process, which stops the server itself).
        """
        loop = asyncio.get_running_loop()
        self.loop = loop
        self._done = loop.create_future()
        self.core.attach(loop)
        self.client_out = client_out
        self._new_session = new_session
        await self._spawn()
        # A hook enrich replaces with its own (it restarts its servers itself, pool.py).
        self.router.faults.on_fault = self._at_fault

    async def _spawn(self) -> None:
        generation = self.generation
        try:
            transport, _ = await self.loop.subprocess_exec(
                lambda: _ServerProtocol(self, generation),
                *self.config.server,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=self._new_session,
            )
        except OSError as exc:
            name = self.config.server[0]
            raise ServerStartError(f"cannot start server {name!r}: {exc.strerror or exc}") from exc
        self.proc = transport
        self.server_in: Any = transport.get_pipe_transport(0)
        server_out: Any = transport.get_pipe_transport(1)
        if isinstance(self.client_out, Stdout):
            self.client_out.on_pause = server_out.pause_reading
            self.client_out.on_resume = server_out.resume_reading

    async def finish(self) -> int:
        """Wait for the server's exit and hand the client what is left (the core stays open)."""
        assert self._done is not None, "start() first"
        await self._done
        await self.client_out.drain_and_close()
        return self._exit_code()

    def _exit_code(self) -> int:
        status = self._status if self._status is not None else 1
        if status < 0:  # killed by a signal
            status = 128 - status
        if self._pending_at_exit and status == 0:
            return 1
        return status

    # -- client → server -----------------------------------------------------------------
    def client_data(self, data: bytes) -> None:
        if self._client_eof:
            return  # the client said it is done; a client in this process may still write
        server_in = self.server_in
        for item in self._client_parser.feed(data):
            if isinstance(item, Frame):
                if self._restart_id is not None and peek(item.body).kind is not Kind.RESPONSE:
                    self._held.append(item)  # for the new server, once it is initialized
                    continue
                self._from_client(item)
            elif isinstance(item, Piece):
                if not server_in.is_closing():
                    server_in.write(item.data)
                self._client_streaming = not item.last
                if item.last:
                    self._flush_later(self._to_server_later, self._to_server)
            else:
                self._junk("client", item)
        self._schedule_drain()

    def _from_client(self, item: Frame) -> None:
        try:
            actions = self.router.from_client(item)
        except Exception as exc:  # nothing a peer sends may end the session
            self.core.internal_error(_about("client", item), exc)
            actions = None  # forwarded unchanged
        if actions is not None:
            self._execute(actions)
        elif not self.server_in.is_closing():  # closed: the server is gone, see server_exited
            self.server_in.write(item.raw)

    def client_eof(self) -> None:
        if self._client_eof:
            return
        self._client_eof = True
        if self._client_parser.pending():
            log.warning("client closed its end in the middle of a frame")
        log.info("client closed stdin: closing the server's stdin")
        if not self.server_in.is_closing():
            self.server_in.close()
        grace = EXIT_GRACE_SECONDS if self.router.exit_requested else GRACE_SECONDS
        self.loop.call_later(grace, self._signal_server, signal.SIGTERM)
        self.loop.call_later(grace + GRACE_SECONDS, self._signal_server, signal.SIGKILL)

    def _stopped(self, sig: signal.Signals) -> None:
        log.warning("received %s: stopping the server", sig.name)
        if self.client_in is not None:
            self.client_in.pause_reading()
        self.client_eof()

    def _signal_server(self, sig: signal.Signals) -> None:
        if self._status is None:
            log.warning("server still running after the client left: sending %s", sig.name)
            # Exited in the meantime: nothing left to signal.
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    # -- server → client -----------------------------------------------------------------
    def server_data(self, data: bytes) -> None:
        router = self.router
        for item in self._server_parser.feed(data):
            if isinstance(item, Frame):
                if self._restart_id is not None and self._replayed(item):
                    continue
                try:
                    actions = router.from_server(item)
                except Exception as exc:  # nothing a peer sends may end the session
                    self.core.internal_error(_about("server", item), exc)
                    actions = None  # forwarded unchanged
                if actions is None:
                    self.client_out.write(item.raw)
                else:
                    self._execute(actions)
            elif isinstance(item, Piece):
                self.client_out.write(item.data)
                self._server_streaming = not item.last
                if item.last:
                    self._flush_later(self._to_client_later, self._to_client)
            else:
                self._junk("server", item)
        self._schedule_drain()

    def server_stderr(self, data: bytes) -> None:
        lines = (self._stderr_tail + data).split(b"\n")
        self._stderr_tail = lines.pop()
        for line in lines:
            server_log.info("%s", line.rstrip(b"\r").decode("utf-8", "replace"))

    def server_out_closed(self) -> None:
        self._server_out_closed = True
        self._maybe_finish()

    # -- replacing a server at fault (issue 23) ------------------------------------------
    def _at_fault(self, operation: str, signature: str) -> None:
        """The router found the server at fault: replace it, within MAX_RESTARTS."""
        if self._restart_id is not None or self._client_eof or self._status is not None:
            return
        if self.restarts >= MAX_RESTARTS or self.router.initialize_request is None:
            log.warning("server at fault (%s: %s); not restarted again", operation, signature)
            return
        self.restarts += 1
        why = f"server restarted at a fault ({operation}: {signature})"
        log.warning("restarting the server (%d of %d): %s", self.restarts, MAX_RESTARTS, why)
        self.loop.create_task(self._restart(why))

    async def _restart(self, why: str) -> None:
        restart_id = RESTART_ID.format(n=self.restarts)
        request = initialize_request(self.router.initialize_request or b"", restart_id)
        if request is None:
            return
        self._restart_id = restart_id  # from here on the client's requests wait
        self._execute(self._guarded("replacing the server", self.router.server_replaced, why))
        self._retire(self.proc, self.server_in)
        self.generation += 1
        self._server_parser = FrameParser(stream=self._server_head)
        if self._server_streaming:  # a large frame the old server never finished
            self._server_streaming = False
            self._flush_later(self._to_client_later, self.client_out.write)
        try:
            await self._spawn()
        except ServerStartError as exc:
            log.error("%s", exc)
            self._restart_id = None
            self._status, self._server_out_closed = 127, True
            self._maybe_finish()
            return
        self.server_in.write(request)

    def _retire(self, proc: Any, server_in: Any) -> None:
        """Stop a replaced server as when the client leaves: stdin closed, then SIGTERM, then
        SIGKILL (closing its transport); its frames and its exit are ignored from now on."""
        self._replaced.append(proc)
        if not server_in.is_closing():
            server_in.close()

        def signal_it(sig: signal.Signals) -> None:
            if proc.get_returncode() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)

        self.loop.call_later(GRACE_SECONDS, signal_it, signal.SIGTERM)
        self.loop.call_later(2 * GRACE_SECONDS, proc.close)

    def _replayed(self, frame: Frame) -> bool:
        """True for the new server's answer to the replayed initialize (the client already has
        one): the open documents follow, then what the client sent meanwhile."""
        found = peek(frame.body)
        if found.kind is not Kind.RESPONSE or found.id != self._restart_id:
            return False
        self._restart_id = None
        for data in reopen(self.documents):
            self._to_server(data)
        held, self._held = self._held, []
        for item in held:
            self._from_client(item)
        self._schedule_drain()
        return True

    def server_exited(self, status: int) -> None:
        self._status = status
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self._status is None or not self._server_out_closed or self._done is None:
            return
        if self._done.done():
            return
        if self._stderr_tail:
            self.server_stderr(b"\n")
        actions = self._guarded("at the server's exit", self.router.server_exited, self._status)
        if actions:
            self._pending_at_exit = True
            log.error("server exited with status %s while requests were pending", self._status)
            self._execute(actions)
        # A large answer cut off by the exit will never end: what waited for it goes now.
        self._flush_later(self._to_client_later, self.client_out.write)
        for handle in self.router.requests.timers():
            handle.cancel()
        for proc in self._replaced:  # a replaced server still running goes with the session
            proc.close()
        self._done.set_result(None)

    # -- actions -------------------------------------------------------------------------
    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case ToClient(data):
                    self._to_client(data)
                case ToServer(data):
                    self._to_server(data)
                case Arm(msg_id, entry):
                    assert entry is not None  # (None only in a comparison)
                    entry.timer = self.loop.call_later(
                        self.config.timeout, self._timed_out, msg_id, entry
                    )
                case Disarm(_, entry):
                    if isinstance(entry, Sent) and entry.timer is not None:
                        entry.timer.cancel()
                        entry.timer = None
                case Flush(msg_id):
                    self.loop.create_task(self._flush(msg_id))
                case Read(uri):
                    # The read gate's read, in a worker: the relay's thread never touches
                    # a file; what needs the text waits for it, nothing else does.
                    reading = self.loop.run_in_executor(None, self.router.reads.reader(uri))
                    self._reads.add(reading)
                    reading.add_done_callback(functools.partial(self._read_done, uri))
                case _:
                    assert_never(action)

    # The proxy's own frames (local answers, cancels, held requests once read) never go into
    # the middle of a large frame being passed on piece by piece: they wait for its last piece.
    def _to_client(self, data: bytes) -> None:
        if self._server_streaming:
            self._to_client_later.append(data)
        else:
            self.client_out.write(data)

    def _to_server(self, data: bytes) -> None:
        if self._client_streaming:
            self._to_server_later.append(data)
        elif not self.server_in.is_closing():  # closed: the server is gone, see server_exited
            self.server_in.write(data)

    @staticmethod
    def _flush_later(waiting: list[bytes], write: Callable[[bytes], None]) -> None:
        frames = waiting[:]
        waiting.clear()
        for data in frames:
            write(data)

    def _read_done(self, uri: str, done: asyncio.Future[Loaded]) -> None:
        found = NOTHING if done.cancelled() or done.exception() else done.result()
        self._execute(self._guarded(f"after reading {uri}", self.router.loaded, uri, found))
        self._schedule_drain()
        self._reads.discard(done)

    def _guarded(self, what: str, decide: Callable[..., list[Action]], *args: Any) -> list[Action]:
        """``decide(*args)``, or no actions when it raises (counted and logged)."""
        try:
            return decide(*args)
        except Exception as exc:
            self.core.internal_error(what, exc)
            return []

    def _client_head(self, head: bytes) -> bool:
        try:
            return self.router.client_head(head)
        except Exception as exc:  # then it is read whole and decided (or forwarded) as a frame
            self.core.internal_error("on the head of a large client frame", exc)
            return False

    def _server_head(self, head: bytes) -> bool:
        try:
            return self.router.server_head(head)
        except Exception as exc:
            self.core.internal_error("on the head of a large server frame", exc)
            return False

    def _timed_out(self, msg_id: Any, entry: Sent) -> None:
        entry.timer = None
        self._execute(self._guarded("on a timeout", self.router.timed_out, msg_id))
        self._schedule_drain()

    async def _flush(self, msg_id: Any) -> None:
        # Answers already relayed whose recording waits for a file's text (a symbol list of a
        # document the proxy has not seen) count as written before this flush: their reads
        # end first. Reads asked for after the flush arrived are not waited for.
        # (_read_done was added to each before asyncio.wait's own callback: it has run.)
        reads = set(self._reads)
        if reads:
            await asyncio.wait(reads)
        self._run_drain()
        committed = await self.core.flush()
        self._to_client(encode(result_response(msg_id, {"committed": committed})))

    def _schedule_drain(self) -> None:
        if not self._drain_scheduled:
            self._drain_scheduled = True
            self.loop.call_soon(self._run_drain)

    def _run_drain(self) -> None:
        self._drain_scheduled = False
        self.router.drain()
        self._execute(self.router.wanted_reads())

    def _junk(self, side: str, junk: Junk) -> None:
        log.warning(
            "dropped %d bytes from the %s that are not an LSP frame (%s); resynchronising",
            len(junk.data),
            side,
            junk.reason,
        )

    # -- flow control --------------------------------------------------------------------
    def pause_client(self) -> None:
        if self.client_in is not None:
            self.client_in.pause_reading()

    def resume_client(self) -> None:
        if self.client_in is not None:
            self.client_in.resume_reading()


def _about(side: str, frame: Frame) -> str:
    """Where an internal error happened, for its log line: the side and the frame's size."""
    return f"on a {side} frame of {len(frame.body)} bytes"


class _ServerProtocol(asyncio.SubprocessProtocol):
    def __init__(self, session: Session, generation: int = 0) -> None:
        self.s = session
        self.generation = generation

    @property
    def current(self) -> bool:
        """Not a server the session has replaced (its frames and exit are no one's now)."""
        return self.generation == self.s.generation

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd != 1:
            self.s.server_stderr(data)  # a replaced server's words are still worth a log line
        elif self.current:
            self.s.server_data(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1 and self.current:
            self.s.server_out_closed()

    def process_exited(self) -> None:
        if self.current:
            status = self.s.proc.get_returncode()
            self.s.server_exited(status if status is not None else 1)

    # The server is not reading fast enough: stop reading from the client until it does.
    def pause_writing(self) -> None:
        if self.current:
            self.s.pause_client()

    def resume_writing(self) -> None:
        if self.current:
            self.s.resume_client()
