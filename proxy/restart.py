"""What a restarted server is told so that the client never notices: the client's own
``initialize`` (under an id of the proxy's, its answer kept from the client, which has one
already), then ``initialized`` and a ``didOpen`` for every document the client has open, with its
current text, languageId and version number.

The editor proxy restarts a server at fault (tracker/faults.py: one method failing for every
symbol with the same error — a server that one cancel broke) at most ``MAX_RESTARTS`` times per
session; the session (proxy/session.py) owns the processes, this module only builds frames.
Built from what the proxy already keeps (the initialize bytes, proxy/documents.py's open texts);
no I/O here.
"""

from __future__ import annotations

from lsp_backoff.proxy import messages as msg
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import encode

#: Restarts of the server per session: a server that is at fault again at once after each
#: restart is left running (its errors still charge no symbol).
MAX_RESTARTS = 3
#: The id of the replayed initialize (a string no editor numbering reaches).
RESTART_ID = "lsp-backoff/restart/{n}"


def initialize_request(client_request: bytes, msg_id: str) -> bytes | None:
    """The client's initialize request under ``msg_id``, framed; None if it cannot be read."""
    decoded = msg.decode(client_request)
    if decoded is None or not isinstance(decoded.get("params"), dict):
        return None
    return encode(msg.encode({**decoded, "id": msg_id}))


def reopen(docs: Documents) -> list[bytes]:
    """``initialized`` and a didOpen per open document, framed, in the order to send them."""
    frames = [encode(msg.notification("initialized", {}))]
    for uri, language, number, text in docs.opened():
        item = {"uri": uri, "languageId": language, "version": number, "text": text}
        frames.append(encode(msg.notification("textDocument/didOpen", {"textDocument": item})))
    return frames
