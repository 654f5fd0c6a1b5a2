"""What is known about particular language servers, in one table, and how a server is named.

A server is named by its initialize answer's ``serverInfo.name`` (LSP 3.17 §initialize,
`shared/reference/lsp-3.17/`); pyright 1.1.414 sends no ``serverInfo`` at all, so until (or
without) one the server's command names it: a word of the command whose file name is a known
server's program. Each entry says what the proxy does differently for that server, why, and
with which version it was measured: re-measure on every upgrade (tests/real/test_real_cancel.py
fails when a workaround is no longer needed).

This module decides nothing and does no I/O: the router asks it about the server it runs, and
enrich asks it how to treat each server of its run (enrich/window.py: what `--open-files auto`
keeps open; enrich/client.py: which log lines say a server lists the workspace's sources).
"""

from __future__ import annotations

import re
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
    #: enrich, `--open-files auto`: the server analyses the whole workspace whatever is open
    #: and re-checks at every didOpen/didClose, so a window costs it far more time than the
    #: memory it saves (docs/performance.md, "The window, measured": on `rich` pyrefly took
    #: 3.4x as long with 8 documents open as with all, ty 7x and left questions unanswered,
    #: basedpyright 1.1x with a higher peak RSS; on `pip`, 436 files, basedpyright's peak
    #: was 2% lower with the window, pyrefly's 12% lower at 2.3x the time). Every document
    #: of its stays open once opened. Read by its serverInfo name only (enrich/window.py
    #: auto_window).
    open_all: bool = False
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
        open_all=True,
        measured="basedpyright 1.40.2 (PyPI)",
    ),
    "pyright": Known(
        "pyright",
        # It has no implementation (-32601), so only references is at stake.
        cancel_poisons=frozenset({REFERENCES}),
        # npm's bin, and the script it runs (`node …/pyright/langserver.index.js --stdio`).
        programs=("pyright-langserver", "langserver.index.js"),
        # Named by its command only (no serverInfo), so `--open-files auto` gives it a window.
        open_all=True,
        measured="pyright 1.1.414 (npm)",
    ),
    # Both cancel every request in flight when a document opens or closes (ContentModified,
    # RequestCancelled "canceled due to subsequent mutation"): enrich asks those again
    # (enrich/asking.py NO_ANSWER_CODES, enrich/monitor.py MAX_TRANSIENT_ASKS, client.py
    # document_symbols), for every server alike.
    "pyrefly-lsp": Known("pyrefly-lsp", open_all=True, measured="pyrefly 1.5.1 (PyPI)"),
    "ty": Known("ty", open_all=True, measured="ty 1.2.0 (PyPI)"),
}

#: pyright and its forks (basedpyright, Pylance) name themselves in their first log line. They
#: answer from the files of their "program": until they have listed the workspace's source
#: files, a references answer misses every file not open — and the listing is postponed while
#: documents keep opening (it runs 250 ms after the last "user interaction"). The listing ends
#: with one of the SOURCES_LISTED lines (pyright's SourceEnumerator._finish). No word boundary
#: before "pyright": basedpyright says "basedpyright language server 1.40.2 starting". enrich
#: waits for that end before a server gets its first didOpen (enrich/client.py, fleet.py).
LISTS_SOURCES = re.compile(r"(pyright|pylance) language server\b", re.IGNORECASE)
SOURCES_LISTED = re.compile(r"(Found \d+ source files?|No source files found\.)\s*")


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


def named(server_info: object) -> Known:
    """The entry for a server by its initialize answer's ``serverInfo`` name alone (case and
    surrounding blanks aside); UNKNOWN without one."""
    name = server_info.get("name") if isinstance(server_info, dict) else None
    if isinstance(name, str):
        return KNOWN.get(name.strip().lower(), UNKNOWN)
    return UNKNOWN


def identify(server_info: object, command: Sequence[str] = ()) -> Known:
    """The entry for a server by its initialize answer's ``serverInfo``, else its command."""
    name = server_info.get("name") if isinstance(server_info, dict) else None
    if isinstance(name, str):
        known = KNOWN.get(name.lower())
        if known is not None:
            return known
    return by_command(command)
