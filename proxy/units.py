"""The graph's one position unit, and conversion into it from a session's encoding.

Every position the graph stores — symbol keys (``uri#line:character:name``), symbol
line/character, edge targets, call hierarchy items — counts characters in **UTF-16 code
units**, whatever ``positionEncoding`` the recording session negotiated (lsp-3.17
``types/position.md``). Why UTF-16: it is the spec's default and the one every server must
offer, so most sessions (basedpyright, pyright, TypeScript, and every client that lists no
encoding — enrich among them) convert nothing, and an indexer reading the graph can hand a
position straight to any server it talks to with default capabilities. A line of ASCII text is
the same in every unit: it is never converted (``str.isascii`` is the whole cost).

Conversion needs the line's text (the session's ``Documents``: memory only, nothing here reads
a file). A position past the end of its line keeps its excess units unchanged; one inside a
multi-unit character (half a surrogate pair, the middle of a UTF-8 sequence) snaps to that
character's start, as ``proxy.text.to_index`` does. Answers to clients are never touched:
this only shapes what is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lsp_backoff.tracker.model import Target

#: The unit of every position in the graph.
GRAPH_UNIT = "utf-16"


def _width(o: int, encoding: str) -> int:
    """Code units code point ``o`` takes in ``encoding``."""
    if encoding == "utf-16":
        return 2 if o > 0xFFFF else 1
    if encoding == "utf-8":
        return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
    return 1


def convert(line: str, character: int, source: str, dest: str = GRAPH_UNIT) -> int:
    """``character`` (units of ``source`` in ``line``) in units of ``dest``.

    The fast path first: the same unit, or an ASCII line, is the identity (no character
    outside the line is looked at either way). Negative offsets come back as given.
    """
    if source == dest or character <= 0 or line.isascii():
        return character
    units_in = units_out = 0
    for ch in line:
        o = ord(ch)
        width = _width(o, source)
        if units_in + width > character:
            return units_out  # inside this character, or exactly at its start
        units_in += width
        units_out += _width(o, dest)
    return units_out + (character - units_in)  # past the line's end: the excess as given


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
