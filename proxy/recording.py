"""Turn LSP results into graph rows: edge targets and symbols.

Functions over decoded JSON; anything of an unexpected shape yields nothing rather than an
exception (a server's odd answer is still forwarded untouched — we just learn less). Symbols
are keyed from their document's text (``keyed``), which the caller has in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lsp_backoff.proxy.documents import Documents
from lsp_backoff.tracker.model import SymbolRef, Target


def _start(range_: Any) -> tuple[int, int] | None:
    try:
        start = range_["start"]
        line, character = start["line"], start["character"]
    except (KeyError, TypeError):
        return None
    if isinstance(line, int) and isinstance(character, int):
        return line, character
    return None


def _end(range_: Any) -> tuple[int, int] | None:
    return _start({"start": range_.get("end")}) if isinstance(range_, dict) else None


def _item_target(item: Any) -> Target | None:
    """A CallHierarchyItem → where its name is."""
    if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
        return None
    pos = _start(item.get("selectionRange")) or _start(item.get("range"))
    return Target(item["uri"], *pos) if pos else None


def _location_target(loc: Any) -> Target | None:
    """A Location or a LocationLink → its start (a link's selection range: the name)."""
    if not isinstance(loc, dict):
        return None
    if isinstance(loc.get("targetUri"), str):
        pos = _start(loc.get("targetSelectionRange")) or _start(loc.get("targetRange"))
        return Target(loc["targetUri"], *pos) if pos else None
    if isinstance(loc.get("uri"), str):
        pos = _start(loc.get("range"))
        return Target(loc["uri"], *pos) if pos else None
    return None


def _calls(key: str) -> Callable[[Any], Target | None]:
    return lambda call: _item_target(call.get(key)) if isinstance(call, dict) else None


_EXTRACT: dict[str, Callable[[Any], Target | None]] = {
    "prepare_call_hierarchy": _item_target,
    "incoming_calls": _calls("from"),
    "outgoing_calls": _calls("to"),
}


def is_empty(result: Any) -> bool:
    return result is None or result == []


def targets(operation: str, result: Any) -> list[Target]:
    """The edge targets in a (non-empty) result of a tracked request."""
    items = result if isinstance(result, list) else [result]
    extract = _EXTRACT.get(operation, _location_target)
    seen: dict[Target, None] = {}
    for item in items:
        target = extract(item)
        if target is not None:
            seen[target] = None
    return list(seen)


def keyed(
    docs: Documents,
    uri: str,
    line: int,
    character: int,
    *,
    label: str = "",
    kind: int | None = None,
    hint: bool = False,
    versioned: bool = True,
    until: tuple[int, int] | None = None,
) -> SymbolRef:
    """The symbol at a position, keyed from the document's text (proxy.identifiers): the same
    key a request at that identifier gets. ``label`` is the server's name for it: stored only
    when the text names nothing there, and with ``hint`` used to find the name on the line of a
    whole declaration's range (SymbolInformation) — never part of the key. ``until`` is the
    end of a server's range for the name (a selectionRange from the position): the key is the
    first identifier inside it when the range starts on punctuation (``*args``, ``"slot"``).

    The caller makes sure the text is in memory (``docs.needs_read`` is False): this never
    reads a file on the event loop on purpose.
    """
    key, ident = docs.symbol_at(uri, line, character, label if hint else "", until)
    version = docs.version(uri) if versioned else None  # hashing only when it is recorded
    return SymbolRef(key, uri, ident.name or label, ident.line, ident.character, kind, version)


def item_uri(item: Any) -> str | None:
    """The document of a CallHierarchyItem (its key is cut from that document's text)."""
    uri = item.get("uri") if isinstance(item, dict) else None
    return uri if isinstance(uri, str) else None


def item_ref(docs: Documents, item: Any, *, versioned: bool = True) -> SymbolRef | None:
    """A CallHierarchyItem as a symbol: keyed from the text at its selectionRange start (the
    first identifier inside it), never from its ``name`` (clangd says ``Arena::Allocate``,
    TypeScript ``Ky.#retry``; the text there says ``Allocate`` and ``#retry``, as at every
    request on them)."""
    target = _item_target(item)
    if target is None:
        return None
    selection = item.get("selectionRange")
    has_selection = _start(selection) == (target.line, target.character)
    label = item.get("name")
    kind = item.get("kind")
    return keyed(
        docs,
        target.uri,
        target.line,
        target.character,
        label=label if isinstance(label, str) else "",
        kind=kind if isinstance(kind, int) else None,
        versioned=versioned,
        until=_end(selection) if has_selection else None,
    )


#: One symbol-list entry: (uri, line, character, server's name, kind, is a whole range's start,
#: where the name's range ends — a DocumentSymbol's selectionRange — if known).
Entry = tuple[str, int, int, str, int | None, bool, tuple[int, int] | None]


def listed_entries(result: Any, uri: str | None) -> list[Entry]:
    """The entries of a documentSymbol or workspace/symbol result, not yet keyed."""
    if not isinstance(result, list):
        return []
    return list(_walk(result, uri))


def _walk(items: list[Any], uri: str | None) -> Iterator[Entry]:
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        kind = item.get("kind") if isinstance(item.get("kind"), int) else None
        if "selectionRange" in item and uri is not None:  # DocumentSymbol: hierarchical
            # selectionRange is "the name of a function" (spec): the position is the name's.
            # It may start on punctuation (basedpyright: `*args`, `"slot"`): keyed at the first
            # identifier inside it (Documents.identifier_at's ``until``).
            pos = _start(item["selectionRange"])
            if pos:
                yield uri, pos[0], pos[1], item["name"], kind, False, _end(item["selectionRange"])
            children = item.get("children")
            if isinstance(children, list):
                yield from _walk(children, uri)
            continue
        location = item.get("location")  # SymbolInformation / WorkspaceSymbol
        if isinstance(location, dict) and isinstance(location.get("uri"), str):
            # Its range may be the whole declaration: the name is looked for on its first line.
            pos = _start(location.get("range"))
            if pos:
                yield location["uri"], pos[0], pos[1], item["name"], kind, True, None
