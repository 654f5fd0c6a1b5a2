"""The request table: one owner for every client request id, from arrival to answer.

A request the proxy forwards lives here until the server answers it, the proxy answers it
itself (timeout, server exit) or the client cancels it; a tracked request whose document must
first be read waits here too (``HELD``), and so does one identical to a request already with the
server (``FOLLOWING``: it attaches to that leader and gets its answer — issue 12 item 3). Ids
the proxy answered itself (short-circuit, timeout) are remembered for a while, so a late server
answer is dropped and a late ``$/cancelRequest`` swallowed. Nothing else in the proxy keys
anything by request id.

It decides nothing and does no I/O: the router asks it what is known about an id.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from lsp_backoff.proxy.framing import Frame
from lsp_backoff.tracker.model import SymbolRef

if TYPE_CHECKING:
    from asyncio import TimerHandle


class State(enum.Enum):
    HELD = "held"  # a tracked request waiting for its document's text before it is decided
    SENT = "sent"  # forwarded: the server owes the answer
    FOLLOWING = "following"  # never sent: answered with the identical request it follows


@dataclass(slots=True, eq=False)
class Entry:
    """One client request in flight."""

    msg_id: Any
    method: str
    state: State = State.SENT
    operation: str | None = None  # tracked requests only
    #: Tracked: the decoded params. Symbol lists: the request's body, decoded only at answer.
    params: Any = None
    frame: Frame | None = None  # HELD: the bytes to send once decided
    symbol: SymbolRef | None = None  # tracked and decided
    sent_at: int | None = None  # the readiness mark when forwarded (tracked requests)
    cancelled: bool = False  # the client sent $/cancelRequest for it
    key: Any = None  # a leader: what makes an identical request (coalesce.key_of)
    followers: list[Entry] | None = None  # a leader: identical requests waiting for its answer
    leader: Entry | None = None  # a follower: the request whose answer it gets
    #: Tracked and decided: the content hash of the text it was asked about, computed only
    #: when called (Documents.version_later) — when recorded, not in front of the forward.
    version: Callable[[], str | None] | None = None
    #: SENT and tracked: its timeout, armed by the session (actions.Arm) until answered.
    timer: TimerHandle | None = None

    @property
    def waited_for(self) -> bool:
        """Does any client still want the answer? (Not when every waiter cancelled.)"""
        return not self.cancelled or bool(self.followers)

    def recorded(self) -> SymbolRef | None:
        """``symbol`` with its document's content version, hashed now (once per text)."""
        if self.symbol is None or self.version is None:
            return self.symbol
        return dataclasses.replace(self.symbol, version=self.version())


class RequestTable:
    def __init__(self, remember_answered: int = 10_000) -> None:
        self._live: dict[Any, Entry] = {}
        # Ids the proxy answered itself. Bounded: a server that never answers must not grow
        # this forever.
        self._answered: LRUCache[Any, str] = LRUCache(maxsize=remember_answered)
        self._held: dict[str, list[Entry]] = {}  # uri → requests waiting for its read
        self._leaders: dict[Any, Entry] = {}  # key → the tracked request in flight

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, msg_id: Any) -> bool:
        return msg_id in self._live

    def get(self, msg_id: Any) -> Entry | None:
        """The request ``msg_id``, sent or held."""
        return self._live.get(msg_id)

    def in_flight(self, msg_id: Any) -> Entry | None:
        """The request ``msg_id`` if the server has it (not one held back)."""
        entry = self._live.get(msg_id)
        return entry if entry is not None and entry.state is State.SENT else None

    # -- arrival -------------------------------------------------------------------------
    def forwarded(self, msg_id: Any, method: str, params: Any = None) -> None:
        """An untracked request went to the server (the common case: kept cheap)."""
        self._live[msg_id] = Entry(msg_id, method, State.SENT, None, params)

    def sent(self, entry: Entry, key: Any = None) -> Entry:
        """``entry`` was forwarded to the server; with ``key``, identical requests may follow."""
        entry.state = State.SENT
        entry.frame = None
        self._live[entry.msg_id] = entry
        if key is not None:
            entry.key = key
            self._leaders[key] = entry
        return entry

    def leader_for(self, key: Any) -> Entry | None:
        """The identical request with the server, if one is and someone still wants it."""
        leader = self._leaders.get(key)
        return leader if leader is not None and leader.waited_for else None

    def follow(self, entry: Entry, leader: Entry) -> None:
        """``entry`` is not sent: it gets ``leader``'s answer under its own id."""
        entry.state = State.FOLLOWING
        entry.frame = None
        entry.leader = leader
        self._live[entry.msg_id] = entry
        if leader.followers is None:
            leader.followers = []
        leader.followers.append(entry)

    def detach(self, follower: Entry) -> Entry:
        """A follower leaves (cancelled): it is the proxy's to answer; returns its leader."""
        leader = follower.leader
        assert leader is not None and leader.followers is not None
        leader.followers.remove(follower)
        self._live.pop(follower.msg_id, None)
        return leader

    def hold(self, entry: Entry, uri: str) -> None:
        """``entry`` waits for ``uri`` to be read before it is decided."""
        entry.state = State.HELD
        self._live[entry.msg_id] = entry
        self._held.setdefault(uri, []).append(entry)

    def release(self, uri: str) -> list[Entry]:
        """The requests that waited for ``uri``, in arrival order; they leave the table (the
        router decides each again)."""
        released = self._held.pop(uri, [])
        for entry in released:
            if self._live.get(entry.msg_id) is entry:  # a client reusing an id: not twice
                del self._live[entry.msg_id]
        return released

    def answered_here(self, msg_id: Any, method: str) -> None:
        """The proxy answered ``msg_id`` itself: the server never owes it an answer."""
        entry = self._live.pop(msg_id, None)
        if entry is not None:
            self._unlead(entry)
        self._answered[msg_id] = method

    def was_answered_here(self, msg_id: Any) -> bool:
        return msg_id in self._answered

    # -- answer --------------------------------------------------------------------------
    def answer(self, msg_id: Any) -> Entry | None:
        """The server answered ``msg_id``: its entry leaves the table. None when the server
        never had it (an id the proxy does not know, or one it holds back)."""
        entry = self._live.get(msg_id)
        if entry is None or entry.state is not State.SENT:
            return None
        del self._live[msg_id]
        if entry.key is not None:  # a tracked leader (the plain case stays cheap: every answer)
            self._unlead(entry)
            for follower in entry.followers or ():  # answered with it, by the proxy
                self._live.pop(follower.msg_id, None)
                self._answered[follower.msg_id] = follower.method
        return entry

    def _unlead(self, entry: Entry) -> None:
        if entry.key is not None and self._leaders.get(entry.key) is entry:
            del self._leaders[entry.key]

    def late(self, msg_id: Any) -> bool:
        """True (once) when ``msg_id`` was answered by the proxy: drop the server's answer."""
        return self._answered.pop(msg_id, None) is not None

    def timers(self) -> list[TimerHandle]:
        """The timeouts still armed (the session cancels them when it ends)."""
        return [entry.timer for entry in self._live.values() if entry.timer is not None]

    def drop_all(self) -> list[Entry]:
        """Every request still in flight (the server is gone); the table is empty after."""
        entries = list(self._live.values())
        self._live.clear()
        self._held.clear()
        self._leaders.clear()
        return entries
