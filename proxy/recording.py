"""Turn LSP results into graph rows: edge targets and symbols.

Pure functions over decoded JSON; anything of an unexpected shape yields nothing rather than
an exception (a server's odd answer is still forwarded untouched — we just learn less).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


def item_symbol(item: Any) -> tuple[str, int, int, str] | None:
    """(uri, line, character, name) of a CallHierarchyItem, for incoming/outgoing calls."""
    target = _item_target(item)
    if target is None or not isinstance(item.get("name"), str):
        return None
    return target.uri, target.line, target.character, item["name"]


def listed_symbols(
    result: Any,
    uri: str | None,
    make: Callable[[str, int, int, str, int | None], SymbolRef],
) -> list[SymbolRef]:
    """Symbols from a documentSymbol or workspace/symbol result."""
    if not isinstance(result, list):
        return []
    return [make(*row) for row in _walk(result, uri)]


def _walk(items: list[Any], uri: str | None) -> Iterator[tuple[str, int, int, str, int | None]]:
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        kind = item.get("kind") if isinstance(item.get("kind"), int) else None
        if "selectionRange" in item and uri is not None:  # DocumentSymbol: hierarchical
            pos = _start(item["selectionRange"])
            if pos:
                yield uri, pos[0], pos[1], item["name"], kind
            children = item.get("children")
            if isinstance(children, list):
                yield from _walk(children, uri)
            continue
        location = item.get("location")  # SymbolInformation / WorkspaceSymbol
        if isinstance(location, dict) and isinstance(location.get("uri"), str):
            pos = _start(location.get("range"))
            if pos:
                yield location["uri"], pos[0], pos[1], item["name"], kind
