"""The graph's one position unit, and conversion into it from a session's encoding.

Every position the graph stores — symbol keys (``uri#line:character:name``), symbol
line/character, edge targets, call hierarchy items — counts characters in **UTF-16 code
units**, whatever ``positionEncoding`` the recording session negotiated (lsp-3.17
``types/position.md``). Why UTF-16: it is the spec's default and the one every server must
offer, so most sessions (basedpyright 1.40, pyright 1.1.414 and typescript-language-server
6.0.2, whose code never mentions ``positionEncoding``, and every client that lists no
encoding — enrich lists only this one) convert nothing, and an indexer reading the graph can hand a
position straight to any server it talks to with default capabilities. A line of ASCII text is
the same in every unit: it is never converted (``str.isascii`` is the whole cost).

Conversion needs the line's text (the session's ``Documents``: memory only, nothing here reads
a file). A position past the end of its line keeps its excess units unchanged; one inside a
multi-unit character (half a surrogate pair, the middle of a UTF-8 sequence) snaps to that
character's start, as ``proxy.text.to_index`` does (the arithmetic: tracker/positions.py).
Answers to clients are never touched: this only shapes what is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lsp_backoff.tracker.model import Target
from lsp_backoff.tracker.positions import GRAPH_UNIT, convert

__all__ = ["GRAPH_UNIT", "convert", "from_graph", "targets_in_graph_unit", "to_graph"]


def to_graph(line: str | None, character: int, encoding: str) -> int:
    """A session's ``character`` on ``line`` in the graph's unit; as given when the line's
    text is unknown (None)."""
    if line is None:
        return character
    return convert(line, character, encoding, GRAPH_UNIT)


def from_graph(line: str, character: int, encoding: str) -> int:
    """A graph position's ``character`` in a session's ``encoding`` (for a reader that asks a
    server which negotiated another unit)."""
    return convert(line, character, GRAPH_UNIT, encoding)


def targets_in_graph_unit(
    found: Iterable[Target], line_of: Callable[[str, int], str | None], encoding: str
) -> list[Target]:
    """Edge targets answered in ``encoding``, in the graph's unit. ``line_of(uri, n)`` is line
    ``n`` of the target's document as the session knows it (None: unknown, kept as given)."""
    if encoding == GRAPH_UNIT:
        return list(found)
    converted: dict[Target, None] = {}  # two positions may meet in one (a snapped one)
    for target in found:
        character = to_graph(line_of(target.uri, target.line), target.character, encoding)
        if character != target.character:
            target = Target(target.uri, target.line, character)
        converted[target] = None
    return list(converted)
