"""The decision table: what to do with each message. No pipe or database I/O happens here.

For every frame from the client or the server the :class:`Router` returns ``None`` — "forward
it unchanged", the common case — or a list of actions for the session to carry out. Work that
is not needed for the decision (decoding a didChange, recording a response) is queued with
``defer`` and run after the frame has been written; ``drain`` runs it before any decision
that depends on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from lsp_backoff.proxy import messages as msg
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents, symbol_key
from lsp_backoff.proxy.framing import Frame, encode
from lsp_backoff.proxy.messages import Kind
from lsp_backoff.proxy.operations import SYMBOL_LISTS, TRACKED
from lsp_backoff.proxy.readiness import Readiness
from lsp_backoff.proxy.recording import is_empty, item_symbol
from lsp_backoff.proxy.sync import document_event
from lsp_backoff.tracker.failures import Verdict
from lsp_backoff.tracker.model import SymbolRef

log = logging.getLogger("lsp_backoff.routing")

# Actions: (verb, payload).
TO_SERVER = "server"  # payload: framed bytes
TO_CLIENT = "client"  # payload: framed bytes
ARM = "arm"  # payload: request id — start its timeout
DISARM = "disarm"  # payload: request id
FLUSH = "flush"  # payload: request id — answer lspBackoff/flush once the store has committed
READ = "read"  # payload: uri — read the document off the loop, then hand it to Router.loaded
Action = tuple[str, Any]

FLUSH_METHOD = "lspBackoff/flush"
STATS_METHOD = "lspBackoff/stats"
_LOCAL_OR_INIT = (FLUSH_METHOD, STATS_METHOD, "initialize")


@dataclass(slots=True)
class Held:
    """A tracked request waiting for its document's text to be read before it is decided."""

    frame: Frame
    msg_id: Any
    method: str
    operation: str
    params: dict[str, Any]
    cancelled: bool = False


@dataclass(slots=True)
class Pending:
    method: str
    operation: str | None = None
    symbol: SymbolRef | None = None
    params: Any = None
    cancelled: bool = False
    sent_at: int | None = None  # the readiness mark when forwarded (tracked requests)


class Router:
    def __init__(
        self,
        core: Core,
        documents: Documents | None = None,
        *,
        timeout: float = 30.0,
        log_messages: bool = False,
    ) -> None:
        self.core = core
        self.tracker = core.tracker
        self.outcomes = core.outcomes
        self.documents = documents or Documents()
        self.readiness = Readiness()
        self.timeout = timeout
        self.counters = core.counters
        self.pending: dict[Any, Pending] = {}
        # Ids the proxy answered itself (short-circuit, timeout): a later $/cancelRequest is
        # swallowed and a late server answer dropped. Bounded: a server that never answers
        # must not grow this forever.
        self.answered: LRUCache[Any, str] = LRUCache(maxsize=10_000)
        # Tracked requests on documents neither open nor cached wait here while their file is
        # read off the loop (action READ); other traffic flows on meanwhile.
        self.held: dict[str, list[Held]] = {}
        self._held_ids: dict[Any, Held] = {}
        # Recording that needs a file's text (a documentSymbol answer on an unopened file)
        # waits for the same reads; one read per file at a time.
        self._after_read: dict[str, list[Callable[[], None]]] = {}
        self._reading: set[str] = set()
        self._wanted: list[str] = []  # reads asked for by deferred work: see wanted_reads
        self.exit_requested = False
        self._log_messages = log_messages

    # -- deferred work -------------------------------------------------------------------
    def defer(self, fn: Callable[[], None]) -> None:
        self.core.defer(fn)

    def drain(self) -> None:
        self.core.drain()

    @staticmethod
    def _guarded(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # a bug in bookkeeping must never stop the relay
            log.exception("internal error while recording a message")

    # -- client → server -----------------------------------------------------------------
    def from_client(self, frame: Frame) -> list[Action] | None:
        body = frame.body
        if self._log_messages:
            log.debug("client → server %s", body.decode("utf-8", "replace"))
        peek = msg.peek(body)
        if peek.kind is Kind.REQUEST:
            method = peek.method or ""
            operation = TRACKED.get(method)
            if operation is not None:
                return self._tracked_request(frame, body, peek.id, method, operation)
            if method in (FLUSH_METHOD, STATS_METHOD):
                return self._local_request(peek.id, method)
            # Symbol lists need their request's document at answer time: keep the bytes,
            # decode them only then.
            self.pending[peek.id] = Pending(method, params=body if method in SYMBOL_LISTS else None)
            if method == "initialize":
                self.defer(lambda: self._initialize_params(body))
            return None
        if peek.kind is Kind.NOTIFICATION:
            return self._client_notification(frame, peek.method or "")
        return None

    def _local_request(self, msg_id: Any, method: str) -> list[Action]:
        self.drain()  # counters must include every answer the client has already seen
        if method == FLUSH_METHOD:
            return [(FLUSH, msg_id)]
        stats = {k: self.counters[k] for k in STAT_KEYS}
        return [(TO_CLIENT, encode(msg.result_response(msg_id, stats)))]

    def _tracked_request(
        self, frame: Frame, body: bytes, msg_id: Any, method: str, operation: str
    ) -> list[Action] | None:
        self.drain()  # document edits and earlier answers must be applied before we decide
        self.counters["tracked"] += 1
        decoded = msg.decode(body)
        params = decoded.get("params") if decoded else None
        uri = _document_of(operation, params)
        if uri is not None and self.documents.needs_read(uri):
            # Its key needs the file's text: never read on the relay's thread. The request
            # waits (and only it) until the session has read the file in a worker.
            held = Held(frame, msg_id, method, operation, params)  # type: ignore[arg-type]
            self._held_ids[msg_id] = held
            self.held.setdefault(uri, []).append(held)
            self._want(uri)
            return self.wanted_reads()
        return self._decide(frame, msg_id, method, operation, params)

    def after_read(self, uri: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` (as deferred work) once ``uri`` has been read off the loop."""
        self._after_read.setdefault(uri, []).append(fn)
        self._want(uri)

    def _want(self, uri: str) -> None:
        if uri not in self._reading:  # one read per file at a time
            self._reading.add(uri)
            self._wanted.append(uri)

    def wanted_reads(self) -> list[Action]:
        """READ actions for the reads asked for so far (deferred work cannot return actions:
        the session collects those after each drain)."""
        if not self._wanted:
            return []
        wanted, self._wanted = self._wanted, []
        return [(READ, uri) for uri in wanted]

    def loaded(self, uri: str, text: str | None) -> list[Action]:
        """The session read ``uri`` (None: not a readable file): decide what waited for it."""
        self._reading.discard(uri)
        self.documents.loaded(uri, text)
        self.drain()
        for fn in self._after_read.pop(uri, ()):
            self.defer(fn)
        actions: list[Action] = []
        for held in self.held.pop(uri, []):
            self._held_ids.pop(held.msg_id, None)  # (a client reusing an id: not twice)
            if held.cancelled:  # the server never saw it: answer the cancel ourselves
                error = msg.error_response(held.msg_id, msg.REQUEST_CANCELLED, "cancelled")
                actions.append((TO_CLIENT, encode(error)))
                continue
            frame = held.frame
            decided = self._decide(frame, held.msg_id, held.method, held.operation, held.params)
            actions.extend(decided if decided is not None else [(TO_SERVER, frame.raw)])
        return actions

    def _decide(
        self, frame: Frame, msg_id: Any, method: str, operation: str, params: Any
    ) -> list[Action] | None:
        symbol = self._symbol_of(operation, params)
        if symbol is None:  # params of an unexpected shape: forward, track nothing
            self.pending[msg_id] = Pending(method)
            return None
        verdict = self.tracker.check(symbol.key, symbol.document, operation, symbol.version)
        if verdict is not Verdict.ALLOW:
            # Answer "no result" at once: valid for every tracked method, and not an error,
            # so editors show nothing rather than a popup (issue 3, short-circuit).
            self.counters["short_circuited"] += 1
            self.answered[msg_id] = method
            return [(TO_CLIENT, encode(msg.result_response(msg_id, None)))]
        self.counters["forwarded"] += 1
        if isinstance(params, dict) and "workDoneToken" in params:
            self.readiness.client_token(params["workDoneToken"])
        mark = self.readiness.mark()
        self.pending[msg_id] = Pending(method, operation, symbol, params, sent_at=mark)
        return [(TO_SERVER, frame.raw), (ARM, msg_id)]

    def _symbol_of(self, operation: str, params: Any) -> SymbolRef | None:
        if not isinstance(params, dict):
            return None
        docs = self.documents
        if operation in ("incoming_calls", "outgoing_calls"):
            found = item_symbol(params.get("item"))
            if found is None:
                return None
            uri, line, character, name = found
            return SymbolRef(
                symbol_key(*found), uri, name, line, character, None, docs.version(uri)
            )
        try:
            uri = params["textDocument"]["uri"]
            line = params["position"]["line"]
            character = params["position"]["character"]
        except (KeyError, TypeError):
            return None
        if not (isinstance(uri, str) and isinstance(line, int) and isinstance(character, int)):
            return None
        key, ident = docs.symbol_at(uri, line, character)
        return SymbolRef(key, uri, ident.name, ident.line, ident.character, None, docs.version(uri))

    def _client_notification(self, frame: Frame, method: str) -> list[Action] | None:
        if method == "exit":
            self.exit_requested = True
            return None
        if method == "$/cancelRequest":
            decoded = msg.decode(frame.body)
            params = decoded.get("params") if decoded else None
            target = params.get("id") if isinstance(params, dict) else None
            if target in self.answered:
                return []  # we answered that request ourselves: the server never saw it
            held = self._held_ids.get(target)
            if held is not None:
                held.cancelled = True  # answered when its document has been read
                return []
            pending = self.pending.get(target)
            if pending is not None:
                pending.cancelled = True
            return None
        if method.startswith(("textDocument/did", "workspace/didChangeWatchedFiles")):
            body = frame.body
            self.defer(
                lambda: document_event(method, body, self.documents, self.outcomes, self.after_read)
            )
        return None

    def _initialize_params(self, body: bytes) -> None:
        decoded = msg.decode(body)
        params = decoded.get("params") if decoded else None
        if isinstance(params, dict):
            self.core.on_initialize(params)

    # -- large frames, decided from their first bytes --------------------------------------
    def client_head(self, head: bytes) -> bool:
        """May a large client frame stream through? Only when it needs no look inside."""
        peek = msg.peek_head(head)
        if peek is None:
            return False
        if peek.kind is Kind.RESPONSE:  # the client answering a server request
            return True
        method = peek.method or ""
        if method in TRACKED or method in SYMBOL_LISTS or method in _LOCAL_OR_INIT:
            return False
        self.pending[peek.id] = Pending(method)
        return True

    def server_head(self, head: bytes) -> bool:
        """May a large server frame stream through? Not an answer the proxy must read."""
        peek = msg.peek_head(head)
        if peek is None:
            return False
        if peek.kind is Kind.REQUEST:  # workspace/configuration and the like
            return True
        pending = self.pending.get(peek.id)
        if pending is None:
            return peek.id not in self.answered  # a late answer to drop is not streamed
        if pending.operation is not None or pending.method in SYMBOL_LISTS:
            return False
        if pending.method == "initialize":
            return False
        del self.pending[peek.id]
        return True

    # -- server → client -----------------------------------------------------------------
    def from_server(self, frame: Frame) -> list[Action] | None:
        body = frame.body
        if self._log_messages:
            log.debug("server → client %s", body.decode("utf-8", "replace"))
        peek = msg.peek(body)
        if peek.kind is Kind.RESPONSE:
            pending = self.pending.pop(peek.id, None)
            if pending is None:
                if self.answered.pop(peek.id, None) is not None:
                    return []  # a late answer to a request we already answered (timeout)
                return None
            if pending.operation is not None:
                self.defer(lambda: self._tracked_response(pending, body))
                return [(TO_CLIENT, frame.raw), (DISARM, peek.id)]
            if pending.method == "textDocument/documentSymbol":
                request = msg.decode(pending.params) if pending.params is not None else None
                uri = _document_of("", request.get("params") if request else None)
                if uri is not None and self.documents.needs_read(uri):
                    # Its symbols are keyed from the file's text: recorded once it is read.
                    self.after_read(uri, lambda: self._other_response(pending, body))
                    return [(TO_CLIENT, frame.raw), *self.wanted_reads()]
            if pending.method in SYMBOL_LISTS or pending.method == "initialize":
                self.defer(lambda: self._other_response(pending, body))
            return None
        if peek.kind is Kind.NOTIFICATION and peek.method in (
            "$/progress",
            "experimental/serverStatus",
        ):
            method = peek.method
            self.defer(lambda: self.readiness.notification(method, msg.decode(body)))
        return None

    def _tracked_response(self, pending: Pending, body: bytes) -> None:
        decoded = msg.decode(body) or {}
        symbol, operation = pending.symbol, pending.operation
        assert symbol is not None and operation is not None
        error = decoded.get("error")
        if pending.cancelled and (error is not None or is_empty(decoded.get("result"))):
            return  # the client gave up on it: whatever the server says now teaches nothing
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            if code == msg.REQUEST_CANCELLED:
                return  # cancelled: by the client, or a server giving way; nothing learnt
            if code == msg.METHOD_NOT_FOUND:
                # The server lacks the whole method (jedi has no implementation): no backoff
                # and no null in its place — the client keeps seeing the server's own error —
                # but the graph notes it, so an indexer stops asking.
                self.outcomes.unsupported(symbol, operation, f"{pending.method} not supported")
                return
            text = error.get("message", "") if isinstance(error, dict) else str(error)
            transient = code in msg.TRANSIENT_CODES
            self.outcomes.failure(symbol, operation, f"error {code}: {text}", transient)
            return
        result = decoded.get("result")
        self.outcomes.answer(symbol, operation, result, self.readiness, pending.sent_at)

    def _other_response(self, pending: Pending, body: bytes) -> None:
        decoded = msg.decode(body) or {}
        result = decoded.get("result")
        if pending.method == "initialize":
            caps = result.get("capabilities") if isinstance(result, dict) else None
            encoding = caps.get("positionEncoding") if isinstance(caps, dict) else None
            if encoding in ("utf-8", "utf-16", "utf-32"):
                self.documents.encoding = encoding
            return
        request = msg.decode(pending.params) if isinstance(pending.params, bytes) else None
        params = request.get("params") if request else None
        self.outcomes.symbols(pending.method, params, result, self.documents)

    # -- events from the session ---------------------------------------------------------
    def timed_out(self, msg_id: Any) -> list[Action]:
        pending = self.pending.pop(msg_id, None)
        if pending is None or pending.symbol is None or pending.operation is None:
            return []
        self.drain()
        self.answered[msg_id] = pending.method
        self.counters["timeouts"] += 1
        reason = f"{pending.method} timed out after {self.timeout:g} s"
        symbol, operation = pending.symbol, pending.operation
        if not pending.cancelled:  # the client gave up first: nothing to learn
            self._guarded(self.outcomes.failure, symbol, operation, reason, False)
        error = msg.error_response(msg_id, msg.REQUEST_FAILED, f"lsp-backoff: {reason}")
        cancel = msg.notification("$/cancelRequest", {"id": msg_id})
        return [(TO_CLIENT, encode(error)), (TO_SERVER, encode(cancel))]

    def server_exited(self, status: int) -> list[Action]:
        """Fail every pending request: nothing may hang on a dead server."""
        self.drain()
        actions: list[Action] = []
        for held in self._held_ids.values():  # never sent: nothing to learn from these
            reason = f"server exited (status {status}) before {held.method} was sent"
            error = msg.error_response(held.msg_id, msg.REQUEST_FAILED, f"lsp-backoff: {reason}")
            actions.append((TO_CLIENT, encode(error)))
        self.held.clear()
        self._held_ids.clear()
        self._after_read.clear()  # the session is ending: nothing is recorded after it
        self._wanted.clear()
        for msg_id, pending in self.pending.items():
            reason = f"server exited (status {status}) before answering {pending.method}"
            symbol, operation = pending.symbol, pending.operation
            if symbol is not None and operation is not None and not pending.cancelled:
                self._guarded(self.outcomes.failure, symbol, operation, reason, False)
            error = msg.error_response(msg_id, msg.REQUEST_FAILED, f"lsp-backoff: {reason}")
            actions.append((TO_CLIENT, encode(error)))
            actions.append((DISARM, msg_id))
        self.pending.clear()
        return actions


STAT_KEYS = (
    "forwarded",
    "short_circuited",
    "failures",
    "transient",
    "timeouts",
    "skipped",
    "tracked",
)


def _document_of(operation: str, params: Any) -> str | None:
    """The URI whose text a tracked request's symbol key is computed from."""
    if not isinstance(params, dict):
        return None
    if operation in ("incoming_calls", "outgoing_calls"):
        item = params.get("item")
        uri = item.get("uri") if isinstance(item, dict) else None
    else:
        document = params.get("textDocument")
        uri = document.get("uri") if isinstance(document, dict) else None
    return uri if isinstance(uri, str) else None
