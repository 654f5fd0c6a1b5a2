"""The one table of what the proxy looks inside, per method and per side.

Both decisions the router makes on a frame read it, so they cannot disagree: the head peek of
a large frame (``Router.client_head`` / ``server_head``: may it stream through unread?) and
the full decision on a frame read whole (``Router.from_client`` / ``from_server``, dispatched
on a rule's ``look`` as pygls dispatches on its feature registry). A method with no rule is
forwarded byte for byte without a look, whatever its size; a method with one is read whole —
the head peek does not stream it even as a frame of the other kind (a didOpen with an id), which
the full decision then forwards unlooked: reading a frame whole is the safe side.
Each rule says what the proxy does with it (``Look``), the operation of a tracked request
(proxy/operations.py), and whether the answer to a request is read.

An answer is read when its request's rule says so — a tracked one only once it was decided on a
symbol: a tracked method with params of an unexpected shape is forwarded and
tracks nothing. Large notifications never stream (``messages.peek_head`` matches only frames
with an id), but their rules are here too: the full decision reads the table for every frame.

It decides nothing and holds no state: the router owns what each look does (a rule applies to
frames of its ``kind`` only; the tables are read as plain dicts, no call on the relay's path).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lsp_backoff.proxy.messages import Kind
from lsp_backoff.proxy.operations import SYMBOL_LISTS, TRACKED

FLUSH_METHOD = "lspBackoff/flush"
STATS_METHOD = "lspBackoff/stats"


class Look(enum.Enum):
    TRACKED = "tracked"  # backed off per (symbol, operation), coalesced; its answer recorded
    LOCAL = "local"  # the proxy's own request: answered here, never forwarded
    SYMBOL_LIST = "symbol list"  # forwarded, its bytes kept: its answer's symbols are recorded
    INITIALIZE = "initialize"  # kept for a restart; the answer names the server and encoding
    EXIT = "exit"  # the client ends the session
    CANCEL = "cancel"  # $/cancelRequest: which request, and who answers it
    DOCUMENT = "document"  # a text kept current from its params (proxy/sync.py)
    NOTEBOOK = "notebook"  # cell texts kept current from its params (proxy/notebooks.py)
    PROGRESS = "progress"  # a piece of a tracked answer, or readiness (proxy/partials.py)
    STATUS = "status"  # the server says whether it is ready (proxy/readiness.py)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: Kind  # REQUEST or NOTIFICATION: a frame of the other kind is not looked at
    look: Look
    operation: str | None = None  # tracked requests: the public operation name
    answer: bool = False  # requests: the answer is read (tracked: once decided on a symbol)


def _notifications(look: Look, *methods: str) -> dict[str, Rule]:
    return {method: Rule(Kind.NOTIFICATION, look) for method in methods}


_DID = ("didOpen", "didChange", "didSave", "didClose")

#: What arrives from the client.
CLIENT: dict[str, Rule] = {
    **{m: Rule(Kind.REQUEST, Look.TRACKED, op, answer=True) for m, op in TRACKED.items()},
    **{m: Rule(Kind.REQUEST, Look.SYMBOL_LIST, answer=True) for m in SYMBOL_LISTS},
    "initialize": Rule(Kind.REQUEST, Look.INITIALIZE, answer=True),
    FLUSH_METHOD: Rule(Kind.REQUEST, Look.LOCAL),
    STATS_METHOD: Rule(Kind.REQUEST, Look.LOCAL),
    **_notifications(Look.EXIT, "exit"),
    **_notifications(Look.CANCEL, "$/cancelRequest"),
    **_notifications(Look.DOCUMENT, *(f"textDocument/{d}" for d in _DID)),
    **_notifications(Look.DOCUMENT, "workspace/didChangeWatchedFiles"),
    **_notifications(Look.NOTEBOOK, *(f"notebookDocument/{d}" for d in _DID)),
}

#: What arrives from the server, besides answers (read as their request's rule says). Its
#: requests (workspace/configuration and the like) have no rule: they go to the client unread.
SERVER: dict[str, Rule] = {
    **_notifications(Look.PROGRESS, "$/progress"),
    **_notifications(Look.STATUS, "experimental/serverStatus"),
}


#: Requests whose answers are read though not tracked: a tracked one's answer is read only
#: once it was decided on a symbol (the router's ``_answer_read``).
READ_ANSWERS = frozenset(m for m, r in CLIENT.items() if r.answer and r.look is not Look.TRACKED)
