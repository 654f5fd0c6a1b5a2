"""The JSON-RPC client end enrich speaks: frames as bytes in and out, plain dicts, no typing layer.

enrich needs a dozen methods and reads a few fields of their answers, so it builds params as
dicts and reads results as decoded JSON (msgspec) — no converter runs per message. The framing
and JSON helpers are the proxy's own. Where the bytes go is the caller's business: ``write``
hands them on, ``feed`` takes what comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from lsp_backoff.proxy import messages
from lsp_backoff.proxy.framing import Frame, FrameParser, encode

log = logging.getLogger("lsp_backoff.enrich")


#: A server → client request handler: params in, result out.
Handler = Callable[[Any], Any]
#: A server → client notification watcher: (method, params).
Watcher = Callable[[str, Any], None]


class ResponseError(Exception):
    """The other side answered a request with an error."""

    def __init__(self, code: Any, message: str) -> None:
        super().__init__(f"error {code}: {message}")
        self.code = code


class JsonRpcClient:
    def __init__(
        self,
        write: Callable[[bytes], None],
        handlers: Mapping[str, Handler],
        watcher: Watcher | None = None,
    ) -> None:
        self._write = write
        self._handlers = handlers
        self._watcher = watcher
        self._parser = FrameParser()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._loop = asyncio.get_running_loop()
        #: Why the connection ended; requests after that fail at once with it.
        self.closed: BaseException | None = None

    def request(self, method: str, params: Any = None) -> asyncio.Future[Any]:
        """Send a request; the future gets its result, or ResponseError for an error answer."""
        future: asyncio.Future[Any] = self._loop.create_future()
        if self.closed is not None:
            future.set_exception(self.closed)
            return future
        self._next_id += 1
        msg_id = self._next_id
        # Registered before writing: the answer may come back within the write itself (a
        # short-circuit of a proxy in this process).
        self._pending[msg_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._write(encode(messages.encode(message)))
        except BaseException:
            del self._pending[msg_id]
            future.cancel()
            raise
        return future

    def notify(self, method: str, params: Any = None) -> None:
        if self.closed is not None:
            return
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._write(encode(messages.encode(message)))

    def feed(self, data: bytes) -> None:
        """Bytes from the server side: resolve answered requests, answer the server's requests."""
        for item in self._parser.feed(data):
            if not isinstance(item, Frame):
                log.warning("enrich: dropped %d bytes that are not an LSP frame", len(item.data))
                continue
            message = messages.decode(item.body)
            if message is None:
                log.warning("enrich: dropped a frame whose body is not a JSON object")
                continue
            if "method" in message:
                if "id" in message:  # a request of the server's: answered on the next turn
                    self._loop.call_soon(self._answer, message)
                elif self._watcher is not None:  # diagnostics, progress, logs
                    self._watch(message)
                continue
            future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is None or future.done():
                continue  # given up on already (the caller's own timeout)
            error = message.get("error")
            if error is None:
                future.set_result(message.get("result"))
            elif isinstance(error, dict):
                future.set_exception(ResponseError(error.get("code"), str(error.get("message"))))
            else:
                future.set_exception(ResponseError(None, str(error)))

    def _watch(self, notification: dict[str, Any]) -> None:
        assert self._watcher is not None
        method = notification["method"]
        try:
            self._watcher(method if isinstance(method, str) else "", notification.get("params"))
        except Exception:  # a watcher's bug must not cost the answers behind it
            log.exception("enrich: watching %r failed", method)

    def close(self, reason: BaseException) -> None:
        """The connection is gone: every request still waiting fails with ``reason``."""
        self.closed = reason
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(reason)

    def _answer(self, request: dict[str, Any]) -> None:
        if self.closed is not None:
            return
        method = request.get("method")
        handler = self._handlers.get(method) if isinstance(method, str) else None
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        if handler is None:
            response["error"] = {
                "code": messages.METHOD_NOT_FOUND,
                "message": f"unhandled: {method}",
            }
        else:
            response["result"] = handler(request.get("params"))
        self._write(encode(messages.encode(response)))
