"""What is known about particular language servers, in one table, and how a server is named.

A server is named by its initialize answer's ``serverInfo.name`` (LSP 3.17 §initialize,
`shared/reference/lsp-3.17/`); pyright 1.1.414 sends no ``serverInfo`` at all, so until (or
without) one the server's command names it: a word of the command whose file name is a known
server's program. Each entry says what the proxy does differently for that server, why, and
with which version it was measured: re-measure on every upgrade (tests/real/test_real_cancel.py
fails when a workaround is no longer needed).

This module decides nothing and does no I/O: the router asks it about the server it runs.
(enrich keeps some per-server knowledge of its own — enrich/client.py, window.py, runner.py,
asking.py, monitor.py — that belongs here too, in time.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

REFERENCES = "textDocument/references"
IMPLEMENTATION = "textDocument/implementation"


@dataclass(frozen=True, slots=True)
class Known:
    """One server's entry (``name`` empty: a server nothing particular is known about)."""

    name: str = ""
    #: Methods that one ``$/cancelRequest`` breaks for the rest of the session: every later
    #: request of the method fails (-32603 "this._token.cancel is not a function"). The proxy
    #: never forwards a cancel of these: it answers RequestCancelled itself, drops the server's
    #: late answer, and its own timeout sends no cancel either.
    cancel_poisons: frozenset[str] = frozenset()
    #: Program names (a command word's file name) that run this server.
    programs: tuple[str, ...] = ()
    measured: str = ""


UNKNOWN = Known()

#: Measured 2026-12-07/08 with a plain stdio client and through the proxy (server-quirks.md):
#: one references request cancelled as soon as sent, then every later references fails.
#: pyrefly 1.5.1, ty 1.2.0, jedi-language-server 0.47.0, typescript-language-server 6.0.2 and
#: clangd are not affected (no entry: every cancel is forwarded to them).
KNOWN: dict[str, Known] = {
    "basedpyright": Known(
        "basedpyright",
        cancel_poisons=frozenset({REFERENCES, IMPLEMENTATION}),
        programs=("basedpyright-langserver", "langserver.index.js"),
        measured="basedpyright 1.40.2 (PyPI)",
    ),
    "pyright": Known(
        "pyright",
        # It has no implementation (-32601), so only references is at stake.
        cancel_poisons=frozenset({REFERENCES}),
        # npm's bin, and the script it runs (`node …/pyright/langserver.index.js --stdio`).
        programs=("pyright-langserver", "langserver.index.js"),
        measured="pyright 1.1.414 (npm)",
    ),
}


def by_command(command: Sequence[str]) -> Known:
    """The entry whose program the command runs (``env -u X node …/server.js`` too)."""
    for word in command:
        path = PurePath(word)
        for known in KNOWN.values():
            if path.name in known.programs or path.stem in known.programs:
                if path.name == "langserver.index.js" and path.parent.name != known.name:
                    continue  # another npm server's script of the same file name
                return known
    return UNKNOWN


def identify(server_info: object, command: Sequence[str] = ()) -> Known:
    """The entry for a server by its initialize answer's ``serverInfo``, else its command."""
    name = server_info.get("name") if isinstance(server_info, dict) else None
    if isinstance(name, str):
        known = KNOWN.get(name.lower())
        if known is not None:
            return known
    return by_command(command)
