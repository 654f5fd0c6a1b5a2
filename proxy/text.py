"""One document's text, kept so that an edit costs what the edit costs — long lines included.

A ``Text`` is a list of chunks of about ``_TARGET`` characters (``_MAX`` at most), each kept
with its number of line breaks, and, built when first needed, its own line-start table and its
length in code units per position encoding. A chunk is cut after a line break where there is
one near ``_TARGET``; inside a longer line (a minified bundle, a generated JSON on one line) it
is cut after a character that is not a word character (``\\w``) instead, and only where there is
neither (a run of word characters longer than ``_MAX - _TARGET``) anywhere. So a line is made of
pieces, and no identifier is cut in two except in such a run (proxy/mentions.py finds names
per chunk). Line numbers come from the break counts, positions from the code-unit lengths:
a position on a long line walks the line's chunks by their kept lengths and converts inside
one chunk only. Before issue 30 a line stayed whole in one chunk: one keystroke in a 2.5 MB
single-line file re-cut and re-counted 2.5 MB (167 ms).

An incremental change rebuilds only the chunk or two its range touches and makes one copy of
the list of chunk references (one pointer per ~8 KB of text: ~1,300 for 10 MB, a few µs); the
first line number of every chunk is re-added only when an edit changed a chunk's number of
lines. A text opened or read from disk stays one chunk until its first edit (opening a file
costs nothing more than before); that edit cuts it into chunks once.

Why not a rope or a piece table: both make the remaining O(text / 8 KB) pointer copy
O(log n) too, for several times the code, and a piece table's line lookups need a tree of
line counts anyway. A list of chunks is the rope's leaves without the tree; at these sizes the
tree would save microseconds per keystroke, below what decoding the keystroke's JSON costs.

A ``Text`` never changes after it is built: ``replaced`` returns a new one sharing every chunk
the edit did not touch. The text a request was asked about therefore stays available, exactly,
until its answer is recorded, and its content hash (``version``) is computed then — once per
text, only if someone asks, and from a piece of it kept per chunk (tracker/digest.py): the
chunks an edit did not touch are not read again. Memory: untouched chunks are shared, so a
text held that way keeps only the chunks edited since.

Positions follow the negotiated ``PositionEncodingKind`` (lsp-3.17 ``types/position.md``); lines
end at ``\\n``, ``\\r\\n`` or ``\\r`` only (``types/textDocuments.md``). A ``\\r`` at the end of one
chunk followed by a ``\\n`` at the start of the next would be one line break split in two, and
a word character on both sides of a boundary one identifier cut in two: edits that would
create either merge the two chunks instead.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from lsp_backoff.tracker import digest

_EOL = re.compile(r"\r\n|\r|\n")
_BREAK = re.compile(r"[\r\n]")
_NON_WORD = re.compile(r"\W")
# Line breaks for str.splitlines but not for LSP (types/textDocuments.md).
_OTHER_SEPARATORS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
#: An over-long chunk is cut after the first line break (else non-word character) after this
#: many characters...
_TARGET = 8192
#: ...once an edit makes it longer than this; a chunk is never longer after an edit.
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


def units_of(text: str, encoding: str) -> int:
    """Code units `text` takes in `encoding`."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-16":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text.encode("utf-8", "surrogatepass"))


def _breaks(chunk: str) -> int:
    """Line breaks in `chunk` (``\\r\\n`` is one)."""
    return chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")


def _line_starts(chunk: str) -> list[int]:
    """0, then the offset right after every line break of `chunk`."""
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


def _is_word(ch: str) -> bool:
    """What ``\\w`` matches (str patterns): alphanumerics and the underscore."""
    return ch.isalnum() or ch == "_"


def _joined(left: str, right: str) -> bool:
    """True when a chunk boundary between these two characters ("" at a text's end) would
    split what must stay whole: a ``\\r\\n``, or an identifier."""
    if not left or not right:
        return False
    return (left == "\r" and right == "\n") or (_is_word(left) and _is_word(right))


def _cut(text: str) -> list[str]:
    """`text` in chunks of _TARGET to _MAX characters (the last may be shorter): cut after a
    line break, else after a non-word character, else (a run of word characters) anywhere."""
    pieces = []
    pos = 0
    while len(text) - pos > _MAX:
        lo, hi = pos + _TARGET, pos + _MAX
        m = _BREAK.search(text, lo, hi)
        if m is not None:
            cut = m.end()
            if text[cut - 1] == "\r" and text[cut : cut + 1] == "\n":
                cut += 1  # the "\n" of a "\r\n" goes with its "\r"
        else:
            m = _NON_WORD.search(text, lo, hi)  # no break in [lo, hi): never a "\r" here
            cut = lo if m is None else m.end()
        pieces.append(text[pos:cut])
        pos = cut
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


def _shifted(table: list[int], lo: int, hi: int, pieces: list[_Chunk], encoding: str) -> list[int]:
    """A running total per chunk (``table[k]``: before chunk k; the total last) after chunks
    `lo`..`hi` became `pieces`: code units of `encoding`, or line breaks for ""."""
    sizes = [p.units(encoding) if encoding else p.breaks for p in pieces]
    middle = list(accumulate(sizes, initial=table[lo]))
    delta = middle[-1] - table[hi]
    tail = table[hi + 1 :]
    return table[:lo] + middle + ([t + delta for t in tail] if delta else tail)


class _Units:
    """Code units of one encoding before every chunk (the total last), as a table plus one
    pending shift: entries after ``after`` are ``delta`` larger than the table says. Typing
    in one chunk only moves the shift (O(1)); an edit elsewhere applies it first (O(chunks),
    a list comprehension). Never changed once built: texts share them."""

    __slots__ = ("_base", "after", "delta", "encoding")

    def __init__(self, encoding: str, base: list[int], after: int = -1, delta: int = 0) -> None:
        self.encoding, self._base, self.after, self.delta = encoding, base, after, delta

    def at(self, k: int) -> int:
        return self._base[k] + (self.delta if k > self.after else 0)

    def find(self, target: int) -> int:
        """The last k whose entry is at most `target` (entries only grow)."""
        base, after, delta = self._base, self.after, self.delta
        if after + 1 < len(base) and base[after + 1] + delta <= target:
            return bisect_right(base, target - delta, after + 1) - 1
        return bisect_right(base, target, 0, after + 1) - 1

    def table(self) -> list[int]:
        """The entries as one list (the shift applied)."""
        if not self.delta:
            return self._base
        base, after, delta = self._base, self.after, self.delta
        return base[: after + 1] + [t + delta for t in base[after + 1 :]]

    def typed(self, k: int, delta: int) -> _Units:
        """Chunk `k` grew by `delta` code units."""
        if not delta:
            return self
        if k == self.after or not self.delta:
            return _Units(self.encoding, self._base, k, self.delta + delta)
        return _Units(self.encoding, self.table(), k, delta)


class _Chunk:
    """A stretch of text with its number of line breaks, and (once asked) its line starts,
    code-unit lengths and identifiers. Shared by every Text that contains it; what it caches
    is a fact about its text."""

    __slots__ = ("_breaks", "_part", "_starts", "_u8", "_u16", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self._breaks: int | None = None
        self._starts: list[int] | None = None
        self._u8: int | None = None
        self._u16: int | None = None
        self._part: digest.Part | None = None
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
        """0, then the offset right after each line break (len(text) for one at the end)."""
        if self._starts is None:
            self._starts = _line_starts(self.text)
        return self._starts

    def units(self, encoding: str) -> int:
        """The chunk's length in code units of `encoding`, computed once per encoding."""
        if encoding == "utf-16":
            if self._u16 is None:
                self._u16 = units_of(self.text, encoding)
            return self._u16
        if encoding == "utf-8":
            if self._u8 is None:
                self._u8 = units_of(self.text, encoding)
            return self._u8
        return len(self.text)

    def part(self) -> digest.Part:
        """The chunk's piece of the content hash (tracker/digest.py), computed once."""
        if self._part is None:
            self._part = digest.part(self.text)
        return self._part

    def know_units(self, encoding: str, units: int) -> None:
        """Its length in `encoding`, when the caller knows it already (an edit's delta)."""
        if encoding == "utf-16":
            self._u16 = units
        elif encoding == "utf-8":
            self._u8 = units

    def typed(self, text: str, at: int, delta: int) -> _Chunk:
        """This chunk after an edit at `at` that added or removed `delta` characters and no
        line break (`text`: the result): the same lines, later starts shifted — what typing
        costs, instead of splitting the chunk into lines again."""
        new = _Chunk(text)
        new._breaks = self._breaks
        if self._starts is not None:
            k = bisect_right(self._starts, at)
            new._starts = self._starts[:k] + [s + delta for s in self._starts[k:]]
        return new


class Text:
    """An immutable document text in chunks; see the module docstring."""

    __slots__ = ("_chunks", "_firsts", "_hash", "_offsets", "_units")

    def __init__(self, text: str, version: str | None = None) -> None:
        """``version``: the text's digest when the caller has it already (see ``version``)."""
        self._chunks = [_Chunk(text)]
        self._firsts: list[int] | None = [0]
        self._offsets: list[int] | None = None
        #: Code units before every chunk in one encoding, once a position needed them.
        self._units: _Units | None = None
        self._hash: str | None = version

    @classmethod
    def _of(cls, chunks: list[_Chunk], firsts: list[int] | None, units: _Units | None) -> Text:
        new = cls.__new__(cls)
        new._chunks, new._firsts, new._offsets, new._hash = chunks, firsts, None, None
        new._units = units
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

    def same_as(self, other: Text) -> bool:
        """True when both hold the same characters; chunks they share are not compared."""
        if self is other:
            return True
        if self.length() != other.length():
            return False
        mine, theirs = self._chunks, other._chunks
        if len(mine) == len(theirs) and all(
            len(a.text) == len(b.text) for a, b in zip(mine, theirs, strict=True)
        ):
            return all(a is b or a.text == b.text for a, b in zip(mine, theirs, strict=True))
        return self.text == other.text

    @property
    def known_version(self) -> str | None:
        """The version if some caller has computed it already; never hashes."""
        return self._hash

    def version(self) -> str:
        """The content hash (tracker/digest.py), computed at the first call and kept: a Text
        never changes. From the pieces each chunk keeps: after an edit only the chunks it
        made are read, the rest is arithmetic per chunk (~0.2 µs each: ~60 µs at 2.5 MB)."""
        if self._hash is None:
            self._hash = digest.finish(digest.combined(c.part() for c in self._chunks))
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
        if i == j:
            return chunks[i].text[a - offsets[i] : b - offsets[i]]
        joined = "".join(c.text for c in chunks[i : j + 1])
        return joined[a - offsets[i] : b - offsets[i]]

    def offset_of(self, chunk: int, offset: int) -> int:
        """Offset in the whole text of ``offset`` inside chunk number ``chunk``."""
        return self._offsets_table()[chunk] + offset

    # -- lines and positions -------------------------------------------------------------------
    def line(self, n: int) -> str | None:
        """The text of line `n` without its terminator, None past the document (O(line): for
        a stretch of a long line around a position, ``around``)."""
        start = self._line_start(n)
        if start is None:
            return None
        (i, s), (j, e) = start, self._line_end(n)
        if i == j:
            return self._chunks[i].text[s:e]
        return self.slice(self.offset_of(i, s), self.offset_of(j, e))

    def position(self, position: Any, encoding: str) -> tuple[int, int]:
        """(chunk, offset in it) of an LSP Position dict, clamped to the document as the spec
        says. Raises KeyError/TypeError/ValueError for a malformed position."""
        line, character = int(position["line"]), int(position["character"])
        start = self._line_start(line) if line >= 0 else (0, 0)
        if start is None:  # a line past the end means the end of the document
            return len(self._chunks) - 1, len(self._chunks[-1].text)
        if line < 0:
            return start
        k, o, _ = self._walk(start, self._line_end(line), character, encoding, False)
        return k, o

    def around(
        self, line: int, character: int, encoding: str, reach: int, unit: str | None = None
    ) -> tuple[str, int, int] | None:
        """The stretch of line `line` within `reach` characters of a position (the whole line
        when it is shorter) as (stretch, the position's index in it, code units of the line
        before the stretch — in `unit`, `encoding` unless given); None for a line outside the
        document. O(reach), not O(line)."""
        start = self._line_start(line) if line >= 0 else None
        if start is None:
            return None
        end = self._line_end(line)
        k, o, before = self._walk(start, end, character, encoding, True)
        if start[0] == end[0] and end[1] - start[1] <= 2 * reach:  # a short line, in one chunk
            return self._chunks[k].text[start[1] : end[1]], o - start[1], 0
        a, b = self.offset_of(*start), self.offset_of(*end)
        p = self.offset_of(k, o)
        lo, hi = max(a, p - reach), min(b, p + reach)
        stretch = self.slice(lo, hi)
        if unit is None or unit == encoding:
            return stretch, p - lo, before - units_of(stretch[: p - lo], encoding)
        return stretch, p - lo, self._units_between(start, lo, unit)

    def _units_between(self, start: tuple[int, int], lo: int, unit: str) -> int:
        """Code units (of `unit`) from (chunk, offset) `start` to offset `lo` of the text, from
        the table of units per chunk: one chunk's work at each end, not the stretch between."""
        chunks, offsets = self._chunks, self._offsets_table()
        table = self._units_table(unit)
        kk = min(max(bisect_right(offsets, lo) - 1, 0), len(chunks) - 1)
        i, s = start
        upto = table.at(kk) + units_of(chunks[kk].text[: lo - offsets[kk]], unit)
        return upto - (table.at(i) + units_of(chunks[i].text[:s], unit))

    def _line_start(self, n: int) -> tuple[int, int] | None:
        """(chunk, offset) where line `n` starts; None past the document."""
        if n <= 0:
            return None if n < 0 else (0, 0)
        chunks = self._chunks
        firsts = self._firsts_table()
        if n > firsts[-1] + chunks[-1].breaks:
            return None
        i = bisect_left(firsts, n) - 1  # the chunk holding the n-th line break
        s = chunks[i].starts()[n - firsts[i]]
        if s == len(chunks[i].text) and i + 1 < len(chunks):
            return i + 1, 0
        return i, s

    def _line_end(self, n: int) -> tuple[int, int]:
        """(chunk, offset) where line `n` (in the document) ends, before its terminator."""
        chunks = self._chunks
        firsts = self._firsts_table()
        if n + 1 > firsts[-1] + chunks[-1].breaks:
            return len(chunks) - 1, len(chunks[-1].text)
        j = bisect_left(firsts, n + 1) - 1  # the chunk holding the line's break
        chunk = chunks[j]
        e = chunk.starts()[n + 1 - firsts[j]]
        # A "\r\n" never straddles two chunks, so both its characters are in this one.
        e -= 2 if e >= 2 and chunk.text.startswith("\r\n", e - 2) else 1
        return j, e

    def _walk(
        self,
        start: tuple[int, int],
        end: tuple[int, int],
        character: int,
        encoding: str,
        count: bool,
    ) -> tuple[int, int, int]:
        """(chunk, offset) `character` code units into the line from `start` to `end`,
        clamped and snapped as ``to_index``; with `count`, also the code units before it
        (else 0). A line within one chunk is converted there; a longer one is found in the
        text's table of code units per chunk: the work is one chunk's either way."""
        chunks = self._chunks
        (i, s), (j, e) = start, end
        if i == j:
            text = chunks[i].text[s:e]
            idx = to_index(text, character, encoding)
            return i, s + idx, units_of(text[:idx], encoding) if count else 0
        table = self._units_table(encoding)
        first = table.at(i) + units_of(chunks[i].text[:s], encoding)
        target = first + max(character, 0)
        # The chunk the target falls in; past the line's last chunk, clamped there.
        k = j if target >= table.at(j) else min(max(table.find(target), i), j)
        text = chunks[k].text
        idx = to_index(text[: e if k == j else len(text)], target - table.at(k), encoding)
        if k == i and idx < s:
            idx = s
        used = table.at(k) + units_of(text[:idx], encoding) - first if count else 0
        return k, idx, used

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
        end_at = a + len(new)
        if i == j and 0 < len(piece) <= _MAX and not _has_break(new + first[a:b]):
            # Typing inside a chunk: it keeps its lines — unless the edit joins a "\r" and a
            # "\n" into one break, or a word across the chunk's ends (then merged below).
            left = piece[a - 1] if a else (chunks[i - 1].text[-1] if i else "")
            right = piece[end_at] if end_at < len(piece) else self._first_char(i + 1)
            joins = new == "" and left == "\r" and right == "\n"
            edges = (a == 0 and i > 0 and _joined(left, piece[0])) or (
                end_at == len(piece) and _joined(piece[-1], right)
            )
            if not joins and not edges:
                new_chunks = chunks.copy()
                new_chunks[i] = chunks[i].typed(piece, a, len(new) - (b - a))
                units = self._units
                if units is not None and units.encoding == encoding:
                    du = units_of(new, encoding) - units_of(first[a:b], encoding)
                    new_chunks[i].know_units(encoding, chunks[i].units(encoding) + du)
                    units = units.typed(i, du)
                return Text._of(new_chunks, self._firsts, units), (i, a), (j, b)
        lo, hi = i, j + 1
        smallest = _TARGET // 4
        # Merge a neighbour across a boundary that would split a "\r\n" or a word, and a
        # piece too small to stand alone (chunks would otherwise only ever get shorter).
        while hi < len(chunks) and (
            len(piece) < smallest or _joined(piece[-1:], chunks[hi].text[:1])
        ):
            piece += chunks[hi].text
            hi += 1
        if lo > 0 and piece and _joined(chunks[lo - 1].text[-1], piece[0]):
            lo -= 1
            piece = chunks[lo].text + piece
        pieces = [
            _Chunk(p) for p in (_cut(piece) if len(piece) > _MAX else [piece] if piece else [])
        ]
        firsts = self._firsts
        if firsts is not None and (
            len(pieces) != hi - lo
            or any(p.breaks != c.breaks for p, c in zip(pieces, chunks[lo:hi], strict=True))
        ):  # line numbers moved from here on
            firsts = _shifted([*firsts, firsts[-1] + chunks[-1].breaks], lo, hi, pieces, "")
            firsts.pop()
        units = self._units
        if units is not None and (units.encoding != encoding or not pieces):
            units = None
        elif units is not None:
            units = _Units(encoding, _shifted(units.table(), lo, hi, pieces, encoding))
        # One copy of the list of references (copy + slice assignment: no per-item rebuild).
        new_chunks = chunks.copy()
        new_chunks[lo:hi] = pieces
        if not new_chunks:
            return Text(""), (i, a), (j, b)
        return Text._of(new_chunks, firsts, units), (i, a), (j, b)

    def _first_char(self, i: int) -> str:
        return self._chunks[i].text[:1] if i < len(self._chunks) else ""

    def _cut(self) -> None:
        """Cut a text that is still one long chunk (as opened or read) before its first edit.
        The content stays the same, so the Text stays the same for everyone holding it."""
        chunks = [_Chunk(c) for c in _cut(self._chunks[0].text)]
        # Tables first, then the chunks: a reader on another thread (chunk_words) sees either.
        self._firsts = self._offsets = None
        self._chunks = chunks

    # -- tables --------------------------------------------------------------------------------
    def _units_table(self, encoding: str) -> _Units:
        """Code units (of `encoding`) before every chunk, and the text's total last."""
        units = self._units
        if units is None or units.encoding != encoding:
            units = self._units = _Units(
                encoding, [0, *accumulate(c.units(encoding) for c in self._chunks)]
            )
        return units

    def _firsts_table(self) -> list[int]:
        """The number of line breaks before every chunk (the line its first character is on)."""
        if self._firsts is None:
            self._firsts = [0, *accumulate(c.breaks for c in self._chunks[:-1])]
        return self._firsts

    def _offsets_table(self) -> list[int]:
        """Offset of every chunk's first character, and the text's length last."""
        if self._offsets is None:
            self._offsets = [0, *accumulate(len(c.text) for c in self._chunks)]
        return self._offsets
