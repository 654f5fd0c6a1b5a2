"""The decision table: what to do with each message. No pipe, file or database I/O happens here.

For every frame from the client or the server the :class:`Router` returns ``None`` — "forward
it unchanged", the common case — or a list of typed actions (proxy/actions.py) for the session
to carry out. Who owns what: every request id belongs to the request table
(proxy/requests.py), every need for a file's text goes through the read gate (proxy/reads.py),
and what an answer teaches goes to the core's outcomes as deferred work: queued with ``defer``,
run after the frame has been written; ``drain`` runs it before any decision depending on it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, assert_never

from lsp_backoff.proxy import messages as msg
from lsp_backoff.proxy import partials
from lsp_backoff.proxy.actions import Action, Arm, Disarm, Flush, ToClient, ToServer
from lsp_backoff.proxy.coalesce import key_of, may_coalesce, with_id
from lsp_backoff.proxy.core import STAT_KEYS, Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, encode
from lsp_backoff.proxy.messages import Kind
from lsp_backoff.proxy.notebooks import Notebooks
from lsp_backoff.proxy.operations import document_of, symbol_of
from lsp_backoff.proxy.outcomes import Faults
from lsp_backoff.proxy.readiness import Readiness
from lsp_backoff.proxy.reads import Loaded, ReadGate
from lsp_backoff.proxy.requests import Following, Held, Plain, RequestTable, Sent
from lsp_backoff.proxy.rules import (
    CLIENT,
    FLUSH_METHOD,
    READ_ANSWERS,
    SERVER,
    Look,
)
from lsp_backoff.proxy.servers import Known, by_command, identify
from lsp_backoff.proxy.sync import disk_changed, document_event
from lsp_backoff.proxy.text import Text
from lsp_backoff.tracker.failures import Verdict
from lsp_backoff.tracker.faults import FaultWatch

log = logging.getLogger("lsp_backoff.routing")


class Router:
    def __init__(
        self,
        core: Core,
        documents: Documents | None = None,
        *,
        timeout: float = 30.0,
        log_messages: bool = False,
        command: Sequence[str] = (),
    ) -> None:
        self.core = core
        self.tracker = core.tracker
        self.outcomes = core.outcomes
        self.counters = core.counters
        self.documents = documents or Documents()
        self.notebooks = Notebooks()
        self.readiness = Readiness()
        self.requests = RequestTable()
        self.reads = ReadGate(self.documents, changed=self._disk_changed)
        self.partials = partials.Partials()
        self.timeout = timeout
        self.exit_requested = False
        self._log_messages = log_messages
        self._command = tuple(command)
        #: What is known about the server (proxy/servers.py): by its command until its
        #: initialize answer names it.
        self.server: Known = by_command(command)
        #: Errors that are the server's, not a symbol's (tracker/faults.py): per server.
        self.faults: Faults = FaultWatch()
        #: The server is being stopped on purpose (enrich restarts one at fault): the requests
        #: it leaves unanswered are no symbol's failure.
        self.retiring = False
        #: The client's initialize request as it came: replayed to a restarted server.
        self.initialize_request: bytes | None = None

    def defer(self, fn: Callable[[], None]) -> None:
        self.core.defer(fn)

    def drain(self) -> None:
        self.core.drain()

    def wanted_reads(self) -> list[Action]:
        """Read actions for reads asked for by deferred work (which cannot return actions: the
        session collects them after each drain)."""
        return [*self.reads.wanted()]

    # -- client → server -----------------------------------------------------------------
    def from_client(self, frame: Frame) -> list[Action] | None:
        body = frame.body
        if self._log_messages:
            log.debug("client → server %s", body.decode("utf-8", "replace"))
        peek = msg.peek(body)
        method = peek.method or ""
        found = CLIENT.get(method)  # (proxy/rules.py: one table for both decisions)
        if found is None or found.kind is not peek.kind:
            if peek.kind is Kind.REQUEST:
                self.requests.forwarded(peek.id, method)
            return None
        match found.look:
            case Look.TRACKED:
                assert found.operation is not None
                return self._tracked_request(frame, peek.id, method, found.operation)
            case Look.LOCAL:
                return self._local_request(peek.id, method)
            case Look.SYMBOL_LIST:
                # Its document is needed at answer time: the bytes are kept, decoded then.
                self.requests.forwarded(peek.id, method, body)
                self.documents.distrust_disk()  # keyed from files checked after this
                if partials.MAY_HAVE_TOKEN in body:
                    msg_id = peek.id  # its symbols may come in pieces (proxy/partials.py)
                    self.defer(lambda: self.partials.watch_request(msg_id, method, body))
            case Look.INITIALIZE:
                self.requests.forwarded(peek.id, method)
                self.initialize_request = body
                self.defer(lambda: self._initialize_params(body))
            case Look.EXIT:
                self.exit_requested = True
            case Look.CANCEL:
                return self._cancel(frame)
            case Look.NOTEBOOK:
                notebooks, docs, outcomes = self.notebooks, self.documents, self.outcomes
                self.defer(lambda: notebooks.event(method, body, docs, outcomes))
            case Look.DOCUMENT:
                docs, outcomes, later = self.documents, self.outcomes, self.reads.want
                self.defer(lambda: document_event(method, body, docs, outcomes, later))
            case Look.PROGRESS | Look.STATUS:  # server-side looks: no client rule has them
                pass
            case _:
                assert_never(found.look)
        return None

    def _local_request(self, msg_id: Any, method: str) -> list[Action]:
        self.drain()  # counters must include every answer the client has already seen
        if method == FLUSH_METHOD:
            return [Flush(msg_id)]
        stats = {k: self.counters[k] for k in STAT_KEYS}
        return [ToClient(encode(msg.result_response(msg_id, stats)))]

    def _tracked_request(
        self, frame: Frame, msg_id: Any, method: str, operation: str
    ) -> list[Action]:
        self.drain()  # document edits and earlier answers must be applied before we decide
        self.counters["tracked"] += 1
        decoded = msg.decode(frame.body)
        params = decoded.get("params") if decoded else None
        entry = Held(msg_id, method, operation, params, frame)
        uri = document_of(operation, params)
        self.documents.distrust_disk()  # no key from a cached text older than this request
        if uri is not None and self.documents.needs_read(uri):
            # Its key needs the file's text, read (or its cached text checked) off the loop:
            # this request waits, and only it; other traffic flows on meanwhile.
            self.requests.hold(entry, uri)
            self.reads.want(uri)
            return self.wanted_reads()
        return self._decide(entry)

    def _decide(self, asked: Held) -> list[Action]:
        raw = asked.frame.raw
        symbol = symbol_of(self.documents, asked.operation, asked.params)
        if symbol is None:  # params of an unexpected shape: forward, track nothing
            self.requests.forwarded(asked.msg_id, asked.method)
            return [ToServer(raw)]
        # A failure state is compared with the text's content hash: hashed only if there is one.
        version = self.documents.version_later(symbol.document)
        state = self.tracker.get(symbol.key, asked.operation)
        compared = version() if state is not None and state.version is not None else None
        verdict = self.tracker.check(symbol.key, symbol.document, asked.operation, compared)
        if verdict is not Verdict.ALLOW:
            # Answer "no result" at once: valid for every tracked method, and not an error,
            # so editors show nothing rather than a popup (issue 3, short-circuit).
            self.counters["short_circuited"] += 1
            self.requests.answered_here(asked.msg_id, asked.method)
            return [ToClient(encode(msg.result_response(asked.msg_id, None)))]
        params = asked.params
        key = None
        if may_coalesce(params):  # (not a result streamed under a token: coalesce.py)
            key = key_of(asked.method, symbol, asked.operation, params, version)
        leader = self.requests.leader_for(key) if key is not None else None
        if leader is not None:
            # The same question is with the server already: ask once, answer both (issue 12).
            self.counters["coalesced"] += 1
            self.requests.follow(Following(asked.msg_id, asked.method, leader))
            return []
        self.counters["forwarded"] += 1
        if isinstance(params, dict) and "workDoneToken" in params:
            self.readiness.client_token(params["workDoneToken"])
        sent_at = self.readiness.mark()
        entry = Sent(asked.msg_id, asked.method, asked.operation, params, symbol, version, sent_at)
        self.requests.sent(entry, key)
        token = partials.token_of(params)
        if token is not None:  # its answer comes in pieces first (proxy/partials.py)
            msg_id, method = entry.msg_id, entry.method
            self.defer(lambda: self.partials.watch(token, msg_id, method))
        return [ToServer(raw), Arm(entry.msg_id, entry)]

    def _cancel(self, frame: Frame) -> list[Action] | None:
        decoded = msg.decode(frame.body)
        params = decoded.get("params") if decoded else None
        target = params.get("id") if isinstance(params, dict) else None
        if not isinstance(target, int | str):
            return None  # not a request id: the server may make of it what it can
        if self.requests.was_answered_here(target):
            return []  # we answered that request ourselves: the server never saw it
        entry = self.requests.get(target)
        if entry is None:
            return None
        if isinstance(entry, Following):
            return self._cancel_follower(entry)
        entry.cancelled = True
        # Held: never sent, so the server must not see the cancel; answered once read.
        # A leader others wait on: the server goes on for them.
        if isinstance(entry, Held) or (isinstance(entry, Sent) and entry.followers):
            return []
        if entry.method in self.server.cancel_poisons:
            return self._cancel_here(entry)
        return None

    def _cancel_follower(self, follower: Following) -> list[Action]:
        """The server never saw a follower: the proxy answers its cancel; the server hears of
        it only when nobody is left waiting for the leader's answer."""
        leader = self.requests.detach(follower)
        self.requests.answered_here(follower.msg_id, follower.method)
        error = msg.error_response(follower.msg_id, msg.REQUEST_CANCELLED, "cancelled")
        actions: list[Action] = [ToClient(encode(error))]
        if not leader.waited_for:
            if leader.method in self.server.cancel_poisons:
                return [*actions, *self._cancel_here(leader)]
            cancel = msg.notification("$/cancelRequest", {"id": leader.msg_id})
            actions.append(ToServer(encode(cancel)))
        return actions

    def _cancel_here(self, entry: Plain | Sent) -> list[Action]:
        """A cancel the server must not see (it would break the method for the rest of the
        session, proxy/servers.py): the proxy answers RequestCancelled now and drops the
        server's answer when it comes. Dropped, not recorded: the entry leaves the table at
        once, so no timer or third answer path lingers for a request nobody waits for; the
        next ask of the symbol records what this one would have."""
        self.requests.answered_here(entry.msg_id, entry.method)
        error = msg.error_response(entry.msg_id, msg.REQUEST_CANCELLED, "cancelled")
        return [ToClient(encode(error)), Disarm(entry.msg_id, entry)]

    def _initialize_params(self, body: bytes) -> None:
        decoded = msg.decode(body)
        params = decoded.get("params") if decoded else None
        if isinstance(params, dict):
            self.core.on_initialize(params)

    # -- large frames, decided from their first bytes --------------------------------------
    def client_head(self, head: bytes) -> bool:
        """May a large client frame stream through? Only when it has no rule (proxy/rules.py)."""
        peek = msg.peek_head(head)
        if peek is None:
            return False
        if peek.kind is Kind.RESPONSE:  # the client answering a server request
            return True
        if peek.method in CLIENT:  # of any kind: read whole, it is still forwarded if unlooked
            return False
        self.requests.forwarded(peek.id, peek.method or "")
        return True

    def server_head(self, head: bytes) -> bool:
        """May a large server frame stream through? Not an answer the proxy must read."""
        peek = msg.peek_head(head)
        if peek is None:
            return False
        if peek.kind is not Kind.RESPONSE:  # workspace/configuration and the like
            return peek.method not in SERVER
        entry = self.requests.in_flight(peek.id)
        if entry is None:
            return not self.requests.was_answered_here(peek.id)  # a late answer is dropped
        if self._answer_read(entry):
            return False
        self.requests.answer(peek.id)
        return True

    # -- server → client -----------------------------------------------------------------
    def from_server(self, frame: Frame) -> list[Action] | None:
        body = frame.body
        if self._log_messages:
            log.debug("server → client %s", body.decode("utf-8", "replace"))
        peek = msg.peek(body)
        if peek.kind is Kind.RESPONSE:
            entry = self.requests.answer(peek.id)
            if entry is None:
                # A late answer to a request we already answered (timeout): dropped.
                return [] if self.requests.late(peek.id) else None
            if isinstance(entry, Sent):
                sent = entry
                self.defer(lambda: self._record(sent, body))
                actions: list[Action] = [ToClient(frame.raw), Disarm(peek.id, entry)]
                for follower in entry.followers:  # the same answer, under its own id
                    actions.append(ToClient(encode(with_id(body, follower.msg_id))))
                return actions
            if entry.method == "textDocument/documentSymbol":
                request = msg.decode(entry.params) if entry.params is not None else None
                uri = document_of("", request.get("params") if request else None)
                if uri is not None and self.documents.needs_read(uri):
                    # Its symbols are keyed from the file's text: recorded once it is read
                    # (with the pieces streamed before this answer, none after).
                    self.defer(lambda: self.partials.close(entry.msg_id))
                    self.reads.want(uri, lambda: self._other_response(entry, body))
                    return [ToClient(frame.raw), *self.reads.wanted()]
            if self._answer_read(entry):
                self.defer(lambda: self._other_response(entry, body))
            return None
        found = SERVER.get(peek.method or "")
        if found is None or found.kind is not peek.kind:
            return None
        if found.look is Look.PROGRESS:
            self.defer(lambda: self._progress(body))
        elif found.look is Look.STATUS:
            method = peek.method or ""
            self.defer(lambda: self.readiness.notification(method, msg.decode(body)))
        return None

    @staticmethod
    def _answer_read(entry: Plain | Sent) -> bool:
        """Is the server's answer to ``entry`` read? (Both server-side decisions ask here.)"""
        return isinstance(entry, Sent) or entry.method in READ_ANSWERS

    def _progress(self, body: bytes) -> None:
        """A ``$/progress``, already forwarded: a piece of a tracked answer, or readiness."""
        report = self.partials.progress(body)
        if report is not None:
            self.readiness.progress(*report)

    def _record(self, entry: Sent, body: bytes) -> None:
        symbol = entry.recorded()
        decoded = msg.decode(body)
        stream = self.partials.finish(entry.msg_id)
        if decoded is not None and stream is not None:
            decoded = partials.answer(stream, decoded, cancelled=not entry.waited_for)
        if decoded is None:
            # Not JSON, nested too deep to decode, or a stream cut short (partials.answer):
            # forwarded, but nothing learnt.
            return
        self.outcomes.response(
            entry.method,
            symbol,
            entry.operation,
            decoded,
            self.readiness,
            sent_at=entry.sent_at,
            cancelled=not entry.waited_for,
            docs=self.documents,
            later=self.reads.want,
            faults=self.faults,
        )

    def _other_response(self, entry: Plain, body: bytes) -> None:
        decoded = msg.decode(body) or {}
        stream = self.partials.finish(entry.msg_id)
        if stream is not None:
            decoded = partials.answer(stream, decoded, cancelled=entry.cancelled) or {}
        result = decoded.get("result")
        if entry.method == "initialize":
            info = result.get("serverInfo") if isinstance(result, dict) else None
            self.server = identify(info, self._command)
            caps = result.get("capabilities") if isinstance(result, dict) else None
            encoding = caps.get("positionEncoding") if isinstance(caps, dict) else None
            if encoding in ("utf-8", "utf-16", "utf-32"):
                self.documents.encoding = encoding
            return
        request = msg.decode(entry.params) if isinstance(entry.params, bytes) else None
        params = request.get("params") if request else None
        self.outcomes.symbols(entry.method, params, result, self.documents, self.reads.want)

    # -- events from the session ---------------------------------------------------------
    def _disk_changed(self, uri: str, before: Text, gone: bool) -> None:
        """The read gate found an unopened file changed on disk, no watched-files event said
        so: the same rules, before anything waiting for the read is keyed (see ``loaded``)."""
        docs, outcomes = self.documents, self.outcomes
        self.defer(lambda: disk_changed(uri, before, gone, docs, outcomes))

    def loaded(self, uri: str, found: Loaded) -> list[Action]:
        """The session read ``uri`` in a worker: run and decide what waited for it."""
        for then in self.reads.loaded(uri, found):
            self.defer(then)
        self.drain()
        actions: list[Action] = []
        for entry in self.requests.release(uri):
            if entry.cancelled:  # the server never saw it: answer the cancel ourselves
                error = msg.error_response(entry.msg_id, msg.REQUEST_CANCELLED, "cancelled")
                actions.append(ToClient(encode(error)))
                continue
            try:
                actions.extend(self._decide(entry))
            except Exception as exc:  # caught at the frame: it goes on unchanged
                self.core.internal_error("deciding a request held for a read", exc)
                actions.append(ToServer(entry.frame.raw))
        actions.extend(self.reads.wanted())
        return actions

    def timed_out(self, msg_id: Any) -> list[Action]:
        entry = self.requests.in_flight(msg_id)
        if not isinstance(entry, Sent):
            return []
        waiters: list[Sent | Following] = [entry, *entry.followers]
        for waiter in waiters:
            self.requests.answered_here(waiter.msg_id, waiter.method)
        self.defer(lambda: self.partials.drop(msg_id))  # its late answer is dropped, unread
        self.counters["timeouts"] += 1
        reason = f"{entry.method} timed out after {self.timeout:g} s"
        if entry.waited_for:  # else every client gave up first: nothing to learn
            symbol, operation = entry.recorded(), entry.operation
            self.defer(functools.partial(self.outcomes.failure, symbol, operation, reason, False))
        self.drain()
        actions: list[Action] = []
        for waiter in waiters:
            error = msg.error_response(waiter.msg_id, msg.REQUEST_FAILED, f"lsp-backoff: {reason}")
            actions.append(ToClient(encode(error)))
        if entry.method in self.server.cancel_poisons:
            return actions  # the cancel would break the method (proxy/servers.py)
        cancel = msg.notification("$/cancelRequest", {"id": msg_id})
        return [*actions, ToServer(encode(cancel))]

    def server_replaced(self, why: str) -> list[Action]:
        """The session stops this server to start another (it was at fault): fail every
        request in flight, charging no symbol; the session goes on with the new server."""
        self.retiring = True
        try:
            return self.server_exited(0, why=why)
        finally:
            self.retiring = False
            self.readiness = Readiness()  # the new server loads from scratch
            self.faults.reset()

    def server_exited(self, status: int, *, why: str = "") -> list[Action]:
        """Fail every request in flight: nothing may hang on a dead server."""
        self.drain()
        if not why:
            self.reads.clear()  # the session is ending: nothing is recorded after it
        self.partials.clear()  # the server's streams end with it
        actions: list[Action] = []
        what = why or f"server exited (status {status})"
        for entry in self.requests.drop_all():
            if isinstance(entry, Held):  # never sent: nothing to learn from these
                reason = f"{what} before {entry.method} was sent"
            else:  # (a follower's leader learns for both)
                reason = f"{what} before answering {entry.method}"
                if isinstance(entry, Sent) and entry.waited_for and not self.retiring:
                    symbol, operation = entry.recorded(), entry.operation
                    failure = functools.partial(self.outcomes.failure, symbol, operation)
                    self.defer(functools.partial(failure, reason, False))
            error = msg.error_response(entry.msg_id, msg.REQUEST_FAILED, f"lsp-backoff: {reason}")
            actions.append(ToClient(encode(error)))
            if isinstance(entry, Plain | Sent):
                actions.append(Disarm(entry.msg_id, entry))
        self.drain()
        return actions
