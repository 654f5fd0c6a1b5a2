"""The request table: one owner for every client request id, from arrival to answer.

A request the proxy forwards lives here until the server answers it, the proxy answers it
itself (timeout, server exit) or the client cancels it; a tracked request whose document must
first be read waits here too (``HELD``), and so does one identical to a request already with the
server (``FOLLOWING``: it attaches to that leader and gets its answer — issue 12 item 3). Ids
the proxy answered itself (short-circuit, timeout) are remembered for a while, so a late server
answer is dropped and a late ``$/cancelRequest`` swallowed. Nothing else in the proxy keys
anything by request id. Each state is its own type (``Plain``, ``Held``, ``Sent``, ``Following``:
the union ``Entry``), so a field exists only where it is valid and mypy checks what the router
used to assert; a tracked request's timeout lives in its ``Sent`` entry.

It decides nothing and does no I/O: the router asks it what is known about an id.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

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
class Plain:
    """An untracked request the server has (the common case: kept cheap)."""

    state: ClassVar[State] = State.SENT
    msg_id: Any
    method: str
    #: Symbol lists: the request's body, decoded only at answer.
    params: Any = None
    cancelled: bool = False  # the client sent $/cancelRequest for it

    @property
    def waited_for(self) -> bool:
        return not self.cancelled


@dataclass(slots=True, eq=False)
class Held:
    """A tracked request as it came, not decided yet (waiting for its document's text, when
    in the table)."""

    state: ClassVar[State] = State.HELD
    msg_id: Any
    method: str
    operation: str
    params: Any  # decoded
    frame: Frame  # the bytes to send once decided
    cancelled: bool = False

    @property
    def waited_for(self) -> bool:
        return not self.cancelled


@dataclass(slots=True, eq=False)
class Sent:
    """A tracked request decided on its symbol and forwarded: the server owes the answer."""

    state: ClassVar[State] = State.SENT
    msg_id: Any
    method: str
    operation: str
    params: Any
    symbol: SymbolRef
    #: The content hash of the text it was asked about, computed only when called
    #: (Documents.version_later) — when recorded, not in front of the forward.
    version: Callable[[], str | None]
    sent_at: int | None = None  # the readiness mark when forwarded
    cancelled: bool = False
    key: Any = None  # a leader: what makes an identical request (coalesce.key_of)
    followers: list[Following] = field(default_factory=list)  # identical, waiting for it
    #: Its timeout, armed by the session (actions.Arm) until answered.
    timer: TimerHandle | None = None

    @property
    def waited_for(self) -> bool:
        """Does any client still want the answer? (Not when every waiter cancelled.)"""
        return not self.cancelled or bool(self.followers)

    def recorded(self) -> SymbolRef:
        """``symbol`` with its document's content version, hashed now (once per text)."""
        return dataclasses.replace(self.symbol, version=self.version())


@dataclass(slots=True, eq=False)
class Following:
    """A tracked request never sent: answered with the identical one it follows (issue 12)."""

    state: ClassVar[State] = State.FOLLOWING
    msg_id: Any
    method: str
    leader: Sent
    cancelled: bool = False

    @property
    def waited_for(self) -> bool:
        return not self.cancelled


#: One client request in the table, in the one state it is in: each state's fields are valid.
Entry = Plain | Held | Sent | Following


class RequestTable:
    def __init__(self, remember_answered: int = 10_000) -> None:
        self._live: dict[Any, Entry] = {}
        # Ids the proxy answered itself. Bounded: a server that never answers must not grow
        # this forever.
        self._answered: LRUCache[Any, str] = LRUCache(maxsize=remember_answered)
        self._held: dict[str, list[Held]] = {}  # uri → requests waiting for its read
        self._leaders: dict[Any, Sent] = {}  # key → the tracked request in flight

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, msg_id: Any) -> bool:
        return msg_id in self._live

    def get(self, msg_id: Any) -> Entry | None:
        """The request ``msg_id``, sent or held."""
        return self._live.get(msg_id)

    def in_flight(self, msg_id: Any) -> Plain | Sent | None:
        """The request ``msg_id`` if the server has it (not one held back)."""
        entry = self._live.get(msg_id)
        return entry if isinstance(entry, Plain | Sent) else None

    # -- arrival -------------------------------------------------------------------------
    def forwarded(self, msg_id: Any, method: str, params: Any = None) -> None:
        """An untracked request went to the server (the common case: kept cheap)."""
        self._live[msg_id] = Plain(msg_id, method, params)

    def sent(self, entry: Sent, key: Any = None) -> Sent:
        """``entry`` was forwarded to the server; with ``key``, identical requests may follow."""
        self._live[entry.msg_id] = entry
        if key is not None:
            entry.key = key
            self._leaders[key] = entry
        return entry

    def leader_for(self, key: Any) -> Sent | None:
        """The identical request with the server, if one is and someone still wants it."""
        leader = self._leaders.get(key)
        return leader if leader is not None and leader.waited_for else None

    def follow(self, entry: Following) -> None:
        """``entry`` is not sent: it gets its leader's answer under its own id."""
        self._live[entry.msg_id] = entry
        entry.leader.followers.append(entry)

    def detach(self, follower: Following) -> Sent:
        """A follower leaves (cancelled): it is the proxy's to answer; returns its leader."""
        leader = follower.leader
        leader.followers.remove(follower)
        self._live.pop(follower.msg_id, None)
        return leader

    def hold(self, entry: Held, uri: str) -> None:
        """``entry`` waits for ``uri`` to be read before it is decided."""
        self._live[entry.msg_id] = entry
        self._held.setdefault(uri, []).append(entry)

    def release(self, uri: str) -> list[Held]:
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
    def answer(self, msg_id: Any) -> Plain | Sent | None:
        """The server answered ``msg_id``: its entry leaves the table. None when the server
        never had it (an id the proxy does not know, or one it holds back)."""
        entry = self._live.get(msg_id)
        if not isinstance(entry, Plain | Sent):
            return None
        del self._live[msg_id]
        if isinstance(entry, Sent) and entry.key is not None:  # a leader (the plain case stays
            self._unlead(entry)  # cheap: every answer)
            for follower in entry.followers:  # answered with it, by the proxy
                self._live.pop(follower.msg_id, None)
                self._answered[follower.msg_id] = follower.method
        return entry

    def _unlead(self, entry: Entry) -> None:
        if not isinstance(entry, Sent) or entry.key is None:
            return
        if self._leaders.get(entry.key) is entry:
            del self._leaders[entry.key]

    def late(self, msg_id: Any) -> bool:
        """True (once) when ``msg_id`` was answered by the proxy: drop the server's answer."""
        return self._answered.pop(msg_id, None) is not None

    def timers(self) -> list[TimerHandle]:
        """The timeouts still armed (the session cancels them when it ends)."""
        live = self._live.values()
        return [e.timer for e in live if isinstance(e, Sent) and e.timer is not None]

    def drop_all(self) -> list[Entry]:
        """Every request still in flight (the server is gone); the table is empty after."""
        entries = list(self._live.values())
        self._live.clear()
        self._held.clear()
        self._leaders.clear()
        return entries
