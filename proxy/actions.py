"""What the router asks the session to do: a closed set of typed actions.

The router decides and the session carries out; ``Action`` is a union the session matches
exhaustively (``typing.assert_never``), so a new kind of action that the session does not
handle is a mypy error, not a silently ignored tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lsp_backoff.proxy.requests import Entry, Sent


@dataclass(frozen=True, slots=True)
class ToServer:
    """Write these framed bytes to the server."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ToClient:
    """Write these framed bytes to the client."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Arm:
    """Start the timeout of the request ``msg_id``, just sent to the server: its ``entry`` in
    the request table holds the timer (the only map from ids is the table). Actions compare by
    id: ``entry`` is None only in a comparison."""

    msg_id: Any
    entry: Sent | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Disarm:
    """The request ``msg_id`` was answered: stop the timeout its ``entry`` holds."""

    msg_id: Any
    entry: Entry | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Flush:
    """Answer ``lspBackoff/flush`` (id ``msg_id``) once the store has committed."""

    msg_id: Any


@dataclass(frozen=True, slots=True)
class Read:
    """Read the file behind ``uri`` in a worker, then hand it to ``Router.loaded``."""

    uri: str


Action = ToServer | ToClient | Arm | Disarm | Flush | Read
