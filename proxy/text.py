"""One document's text, kept so that an edit costs what the edit costs.

A ``Text`` is a list of chunks, each a ``str`` of whole lines (every chunk but the last ends
with a line terminator) kept with its number of line breaks and, built when first needed, its
own line-start table. An incremental change rebuilds only the chunk or two its range touches
(``_MAX`` characters at most, unless one line is longer) and makes one copy of the list of
chunk references (one pointer per ~8 KB of text: ~1,300 for 10 MB, a few µs); the first line
number of every chunk is re-added only when an edit changed a chunk's number of lines. So a
keystroke on a 10 MB file costs about what it costs on a 100 KB one, where rebuilding the
string, its line table and its hash took 21 ms at 2.3 MB.

Why not a rope or a piece table: both make the remaining O(text / 8 KB) pointer copy
O(log n) too, for several times the code, and a piece table's line lookups need a tree of
line counts anyway. A list of line chunks is the rope's leaves without the tree; at these
sizes the tree would save microseconds per keystroke, below what decoding the keystroke's JSON
costs. A text opened or read from disk stays one chunk until its first edit (opening a file
costs nothing more than before); that edit cuts it into chunks once.

A ``Text`` never changes after it is built: ``replaced`` returns a new one sharing every chunk
the edit did not touch. The text a request was asked about therefore stays available, exactly,
until its answer is recorded, and its content hash (``version``) is computed then — once per
text, and only if someone asks. Memory: untouched chunks are shared, so a text held that way
keeps only the chunks edited since.

Positions follow the negotiated ``PositionEncodingKind`` (lsp-3.17 ``types/position.md``); lines
end at ``\\n``, ``\\r\\n`` or ``\\r`` only (``types/textDocuments.md``). A ``\\r`` at the end of one
chunk followed by a ``\\n`` at the start of the next would be one line break split in two, so
edits that would create that merge the two chunks instead.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any

_EOL = re.compile(r"\r\n|\r|\n")
# Line breaks for str.splitlines but not for LSP (types/textDocuments.md).
_OTHER_SEPARATORS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
#: An over-long chunk is cut at the first line break after this many characters...
_TARGET = 8192
#: ...once an edit makes it longer than this.
_MAX = 2 * _TARGET


def _width(ch: str, encoding: str) -> int:
    """Code units one code point takes in `encoding`."""
    o = ord(ch)
    if encoding == "utf-16":
        return 2 if o > 0xFFFF else 1
    if encoding == "utf-8":
        return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
    return 1


def to_index(line: str, character: int, encoding: str) -> int:
    """Code-point index in `line` for an encoded offset; clamps to the line end and snaps an
    offset inside a multi-unit character to that character's start."""
    if character <= 0:
        return 0
    if encoding == "utf-32" or line.isascii():
        return min(character, len(line))
    units = 0
    for i, ch in enumerate(line):
        units += _width(ch, encoding)
        if units > character:
            return i
    return len(line)


def _breaks(chunk: str) -> int:
    """Line breaks in `chunk` (``\\r\\n`` is one)."""
    return chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")


def _line_starts(chunk: str) -> list[int]:
    """Offset of the first character of every line of `chunk`."""
    if any(sep in chunk for sep in _OTHER_SEPARATORS):
        return [0, *(m.end() for m in _EOL.finditer(chunk))]
    # splitlines splits exactly at \n, \r\n and \r here; 2-4x faster than finditer.
    parts = chunk.splitlines(keepends=True)
    starts = [0, *accumulate(map(len, parts))]
    if parts and parts[-1][-1] not in "\r\n":
        starts.pop()  # the last line has no terminator: no line after it
    return starts


def _has_break(text: str) -> bool:
    return "\n" in text or "\r" in text


def _cut(text: str) -> list[str]:
    """`text` in chunks of whole lines of about _TARGET characters (a longer line stays one)."""
    pieces = []
    pos = 0
    while len(text) - pos > _MAX:
        # A match starting between "\r" and "\n" is that "\n": the cut still follows both.
        m = _EOL.search(text, pos + _TARGET)
        if m is None:
            break
        pieces.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        pieces.append(text[pos:])
    return pieces


def edited(text: Text, changes: list[Any], encoding: str) -> Text:
    """`text` after a didChange's ``contentChanges``, applied in order: full (``{"text"}``)
    and incremental (``{"range", "text"}``). Returns `text` itself (its version kept) when they
    change nothing. Raises KeyError, TypeError, ValueError or AttributeError on a malformed
    change.

    One incremental change says by itself whether it changes anything (the range's old
    characters against the new ones). Several may cancel out, so then the stretch any of them
    touched is compared with the same stretch before them: untouched characters at both ends
    are the same by construction.
    """
    current = text
    several = len(changes) > 1
    applied = 0
    same_head = same_tail = -1  # characters at each end that no change touched (-1: all)
    for change in changes:
        new = change["text"]
        if not isinstance(new, str):
            raise TypeError("change text is not a string")
        rng = change.get("range")
        if rng is None:
            current, applied, same_head, same_tail = Text(new), applied + 1, 0, 0
            continue
        found = current.replaced(rng["start"], rng["end"], new, encoding)
        if found is None:
            continue
        after, (i, a), (j, b) = found
        applied += 1
        if several:
            a, tail = current.offset_of(i, a), current.length() - current.offset_of(j, b)
            same_head = a if same_head < 0 else min(same_head, a)
            same_tail = tail if same_tail < 0 else min(same_tail, tail)
        current = after
    if applied == 0 or (applied == 1 and same_head < 0):
        return current
    if current.length() != text.length():
        return current
    head, tail = max(same_head, 0), max(same_tail, 0)
    if text.slice(head, text.length() - tail) == current.slice(head, current.length() - tail):
        return text
    return current


class _Chunk:
    """Whole lines of text, with their number of line breaks and (once asked) line starts.
    Shared by every Text that contains it; what it caches is a fact about its text."""

    __slots__ = ("_breaks", "_starts", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self._breaks: int | None = None
        self._starts: list[int] | None = None
        #: The identifiers the chunk mentions, once someone asked (Text.chunk_words).
        self.words: frozenset[str] | None = None

    @property
    def breaks(self) -> int:
        """Line breaks in the chunk; counted when first needed (a file read from disk and
        never looked into costs nothing)."""
        if self._breaks is None:
            starts = self._starts
            self._breaks = _breaks(self.text) if starts is None else len(starts) - 1
        return self._breaks

    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = _line_starts(self.text)
        return self._starts

    def typed(self, text: str, at: int, delta: int) -> _Chunk:
        """This chunk after an edit at `at` that added or removed `delta` characters and no
        line break (`text`: the result): the same lines, later starts shifted — what typing
        costs, instead of splitting the chunk into lines again."""
        new = _Chunk.__new__(_Chunk)
        new.text, new._breaks, new._starts, new.words = text, self._breaks, None, None
        if self._starts is not None:
            k = bisect_right(self._starts, at)
            new._starts = self._starts[:k] + [s + delta for s in self._starts[k:]]
        return new


class Text:
    """An immutable document text in chunks of whole lines; see the module docstring."""

    __slots__ = ("_chunks", "_firsts", "_hash", "_offsets")

    def __init__(self, text: str, version: str | None = None) -> None:
        """``version``: the text's digest when the caller has it already (see ``version``)."""
        self._chunks = [_Chunk(text)]
        self._firsts: list[int] | None = [0]
        self._offsets: list[int] | None = None
        self._hash: str | None = version

    @classmethod
    def _of(cls, chunks: list[_Chunk], firsts: list[int] | None) -> Text:
        new = cls.__new__(cls)
        new._chunks, new._firsts, new._offsets, new._hash = chunks, firsts, None, None
        return new

    # -- whole text ----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The whole text (joined: O(length), for comparisons and hashing only)."""
        chunks = self._chunks
        return chunks[0].text if len(chunks) == 1 else "".join(c.text for c in chunks)

    def length(self) -> int:
        # Not __len__: an empty text must stay truthy (``open.get(uri) or disk.get(uri)``).
        return self._offsets_table()[-1]

    @property
    def known_version(self) -> str | None:
        """The version if some caller has computed it already; never hashes."""
        return self._hash

    def version(self, digest: Callable[[str], str]) -> str:
        """``digest(text)``, computed at the first call and kept: a Text never changes."""
        if self._hash is None:
            self._hash = digest(self.text)
        return self._hash

    def chunk_words(self, find: Callable[[str], frozenset[str]]) -> list[frozenset[str]]:
        """``find`` of each chunk's text, computed once per chunk and kept on it: a chunk is
        shared by every text that contains it, so after an edit only the edited chunks are
        looked at again (proxy/mentions.py: the identifiers a text mentions). Safe on another
        thread: a chunk's text never changes, and ``_cut`` replaces the list of chunks (with
        the same content) rather than changing the one a caller holds."""
        found = []
        for chunk in self._chunks:
            words = chunk.words
            if words is None:
                words = chunk.words = find(chunk.text)
            found.append(words)
        return found

    def slice(self, a: int, b: int) -> str:
        """Characters ``a`` to ``b`` of the text, joining only the chunks they lie in."""
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0].text[a:b]
        offsets = self._offsets_table()
        i = max(bisect_right(offsets, a) - 1, 0)
        j = min(bisect_right(offsets, b) - 1, len(chunks) - 1)
        joined = "".join(c.text for c in chunks[i : j + 1])
        return joined[a - offsets[i] : b - offsets[i]]

    def offset_of(self, chunk: int, offset: int) -> int:
        """Offset in the whole text of ``offset`` inside chunk number ``chunk``."""
        return self._offsets_table()[chunk] + offset

    # -- lines and positions -------------------------------------------------------------------
    def line(self, n: int) -> str | None:
        """The text of line `n` without its terminator, None past the document."""
        span = self._span(n)
        return None if span is None else self._chunks[span[0]].text[span[1] : span[2]]

    def position(self, position: Any, encoding: str) -> tuple[int, int]:
        """(chunk, offset in it) of an LSP Position dict, clamped to the document as the spec
        says. Raises KeyError/TypeError/ValueError for a malformed position."""
        line, character = int(position["line"]), int(position["character"])
        if line < 0:
            return 0, 0
        span = self._span(line)
        if span is None:  # a line past the end means the end of the document
            return len(self._chunks) - 1, len(self._chunks[-1].text)
        i, start, end = span
        return i, start + to_index(self._chunks[i].text[start:end], character, encoding)

    def _span(self, n: int) -> tuple[int, int, int] | None:
        """(chunk, start, end before the terminator) of line `n`, None past the document."""
        if n < 0:
            return None
        firsts = self._firsts_table()
        i = bisect_right(firsts, n) - 1
        chunk = self._chunks[i]
        starts = chunk.starts()
        k = n - firsts[i]
        if k >= len(starts):  # past the last line (every other chunk holds its lines)
            return None
        if k + 1 == len(starts):
            return i, starts[k], len(chunk.text)
        end = starts[k + 1]
        end -= 2 if chunk.text.startswith("\r\n", end - 2) else 1
        return i, starts[k], end

    # -- edits ---------------------------------------------------------------------------------
    def replaced(
        self, start: Any, end: Any, new: str, encoding: str
    ) -> tuple[Text, tuple[int, int], tuple[int, int]] | None:
        """The text with the range ``start``..``end`` (LSP Positions, clamped; reversed taken
        as ordered) replaced by ``new``, with the range's (chunk, offset) ends in this text;
        None when that changes nothing."""
        if len(self._chunks) == 1 and len(self._chunks[0].text) > _MAX:
            self._cut()
        (i, a), (j, b) = sorted((self.position(start, encoding), self.position(end, encoding)))
        chunks = self._chunks
        first, last = chunks[i].text, chunks[j].text
        if i == j:
            if b - a == len(new) and first[a:b] == new:
                return None
        elif first[a:] + "".join(c.text for c in chunks[i + 1 : j]) + last[:b] == new:
            return None
        piece = first[:a] + new + last[b:]
        # Typing inside one line: the chunk keeps its lines. (A deletion between a "\r" and a
        # "\n" does not: they become one "\r\n".)
        # (Not when it empties the chunk: an empty chunk is dropped below.)
        typing = i == j and 0 < len(piece) <= _MAX and not _has_break(new + first[a:b])
        end = a + len(new)
        if typing and not (a and first[a - 1] == "\r" and piece[end : end + 1] == "\n"):
            new_chunks = chunks.copy()
            new_chunks[i] = chunks[i].typed(piece, a, len(new) - (b - a))
            return Text._of(new_chunks, self._firsts), (i, a), (j, b)
        lo, hi = i, j + 1
        # Every chunk but the last ends with a line break, and never with the "\r" of a "\r\n"
        # ("\r" + "\n" is one line break: it must not straddle two chunks).
        while hi < len(chunks) and (
            not piece.endswith(("\n", "\r")) or (piece[-1] == "\r" and chunks[hi].text[:1] == "\n")
        ):
            piece += chunks[hi].text
            hi += 1
        if lo > 0 and piece.startswith("\n") and chunks[lo - 1].text.endswith("\r"):
            lo -= 1
            piece = chunks[lo].text + piece
        pieces = [
            _Chunk(p) for p in (_cut(piece) if len(piece) > _MAX else [piece] if piece else [])
        ]
        firsts = self._firsts
        if len(pieces) != hi - lo or any(
            p.breaks != c.breaks for p, c in zip(pieces, chunks[lo:hi], strict=True)
        ):
            firsts = None  # line numbers moved: recounted when next needed
        # One copy of the list of references (copy + slice assignment: no per-item rebuild).
        new_chunks = chunks.copy()
        new_chunks[lo:hi] = pieces
        if not new_chunks:
            return Text(""), (i, a), (j, b)
        return Text._of(new_chunks, firsts), (i, a), (j, b)

    def _cut(self) -> None:
        """Cut a text that is still one long chunk (as opened or read) before its first edit.
        The content stays the same, so the Text stays the same for everyone holding it."""
        self._chunks = [_Chunk(c) for c in _cut(self._chunks[0].text)]
        self._firsts = self._offsets = None

    # -- tables --------------------------------------------------------------------------------
    def _firsts_table(self) -> list[int]:
        """The number of every chunk's first line."""
        if self._firsts is None:
            self._firsts = [0, *accumulate(c.breaks for c in self._chunks[:-1])]
        return self._firsts

    def _offsets_table(self) -> list[int]:
        """Offset of every chunk's first character, and the text's length last."""
        if self._offsets is None:
            self._offsets = [0, *accumulate(len(c.text) for c in self._chunks)]
        return self._offsets
