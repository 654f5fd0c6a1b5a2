"""Document texts, position encodings and symbol keys.

Keeps the text of open documents (didOpen, didChange full and incremental, didSave, didClose) and
a bounded LRU cache of unopened ``file://`` documents read from disk, so the proxy can name
the identifier at a request position: its key is the URI plus the identifier's start and text, so
every position inside one identifier gives the same key. Positions follow the negotiated
``PositionEncodingKind`` (lsp-3.17 ``types/position.md``), keys the graph's one unit (UTF-16,
proxy/units.py); lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (``types/textDocuments.md``).
Memory only: files are read by the read gate
(proxy/reads.py) in a worker and handed in with ``loaded``; nothing here touches the disk, and
nothing raises for bad client input (the proxy only loses a symbol's name). A cached disk text
keys nothing asked after the gate last checked its file (``needs_read``, ``distrust_disk``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from lsp_backoff.proxy.identifiers import Rules, rules_for, span_at, span_within
from lsp_backoff.proxy.text import Text, edited, to_index
from lsp_backoff.proxy.units import GRAPH_UNIT, to_graph
from lsp_backoff.tracker import digest as _digest

ENCODINGS = ("utf-8", "utf-16", "utf-32")
#: Qualifiers in servers' symbol names (Foo::bar, pkg.mod.name): see identifier_at's hint.
_HINT_PARTS = re.compile(r"::|\.")
_HINT_SIGNATURE = re.compile(r"[\s(<\[]")
#: How far around a position identifier_at looks on its line (characters each side).
_REACH = 4096


def content_hash(text: str) -> str:
    """The content version of a text (tracker/digest.py): the value a ``Text`` in chunks gets
    from its chunks' pieces, whatever its edit history."""
    return _digest.content_hash(text)


def symbol_key(uri: str, line: int, character: int, name: str) -> str:
    """The symbol identity from CONTRACTS.md; ``name`` "" means tracked by position."""
    if name:
        return f"{uri}#{line}:{character}:{name}"
    return f"{uri}#{line}:{character}"


@dataclass(frozen=True, slots=True)
class VersionLater:
    """The content hash of one text, computed when first called (None: no text known). Edits
    made since do not change it (texts are never changed in place), and two of them are equal
    exactly when they stand for the same text object: "the same content" without a hash."""

    text: Text | None

    def __call__(self) -> str | None:
        return None if self.text is None else self.text.version()


@dataclass(frozen=True, slots=True)
class Identifier:
    """An identifier's start position and text; name "" when none. The position is in the
    graph's unit (proxy.units: UTF-16), whatever the session negotiated."""

    line: int
    character: int
    name: str


def _hinted(text: str, idx: int, hint: str, rules: Rules) -> int:
    """Where the name part of ``hint`` starts as a whole identifier on the line at or after
    ``idx``; ``idx`` when it does not occur there."""
    short = _HINT_PARTS.split(hint)[-1] or hint
    if not short.startswith("operator"):  # foo(int), List<T>: a signature is not the name
        short = _HINT_SIGNATURE.split(short)[0] or short
    found = text.find(short, idx)
    while found >= 0:
        span = span_at(text, found, rules)
        if span == (found, found + len(short)):  # the whole name, not a part of another
            return found
        found = text.find(short, found + 1)
    return idx


def _range_end(
    text: str, at: int, character: int, line: int, until: tuple[int, int] | None, encoding: str
) -> int | None:
    """Where a range ending at ``until`` ends in ``text`` — the stretch of ``line`` in which the
    asked position, ``character`` code units into the line, is index ``at`` — as an index: the
    stretch's end when the range goes on past the line; None without a range (or one ending
    before the position)."""
    if until is None:
        return None
    if until[0] > line:
        return len(text)
    if until[0] < line or until[1] < character:
        return None
    return at + to_index(text[at:], until[1] - character, encoding)


def _to_units(prefix: str, encoding: str) -> int:
    """Encoded length of `prefix` (the part of a line before some index)."""
    if encoding == "utf-32" or prefix.isascii():
        return len(prefix)
    if encoding == "utf-16":
        return len(prefix.encode("utf-16-le", "surrogatepass")) // 2
    return len(prefix.encode("utf-8", "surrogatepass"))


class Documents:
    """Texts of open documents plus a bounded cache of files read from disk."""

    #: How long "this file could not be read" is believed (seconds): long enough to decide
    #: the requests that waited for the read, short enough that a file created later is seen.
    MISSING_SECONDS = 2.0

    def __init__(
        self,
        *,
        encoding: str = "utf-16",
        disk_cache_size: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.encoding = encoding
        self._open: dict[str, Text] = {}
        self._disk_cache_size = disk_cache_size
        self._disk: LRUCache[str, Text] = LRUCache(maxsize=max(disk_cache_size, 1))
        self._missing: LRUCache[str, float] = LRUCache(maxsize=max(disk_cache_size, 1))
        # A cached text keys nothing asked after its file's last check (proxy/reads.py): the
        # questions are counted, and each cached text notes the count its check ended at.
        self._questions = 0
        self._checked: LRUCache[str, int] = LRUCache(maxsize=max(disk_cache_size, 1))
        self._clock = clock
        # languageId per document (didOpen); bounded: only the rules depend on it.
        self._languages: LRUCache[str, str] = LRUCache(maxsize=10_000)
        #: The client's version number of each open document (didOpen, didChange): a
        #: restarted server is told the open documents with it (proxy/restart.py).
        self._numbers: dict[str, int] = {}

    @property
    def encoding(self) -> str:
        """The negotiated PositionEncodingKind: "utf-8", "utf-16" or "utf-32"."""
        return self._encoding

    @encoding.setter
    def encoding(self, value: str) -> None:
        # The value comes off the wire (initialize result); anything unknown falls back to
        # utf-16, the spec's mandatory default, rather than breaking the session.
        self._encoding = value if value in ENCODINGS else "utf-16"

    def open(self, uri: str, text: str) -> bool:
        """didOpen. True when `text` differs from what was known before (open text or cached
        disk text); True when nothing can be known (no file behind the URI).

        A file not read yet is not read now (this runs on the relay's thread): False. What
        was learnt about the document carries its content hash, and the tracker drops any
        state whose hash differs from the text's at the next request — the same verdict,
        reached without the read.
        """
        needs_read = self._unknown(uri)
        before = None if needs_read else self.text(uri)
        self._open[uri] = Text(text)
        if needs_read:
            return False
        return before != text

    def change(self, uri: str, changes: list[dict[str, Any]]) -> bool:
        """didChange: apply full (``{"text"}``) and incremental (``{"range", "text"}``) changes
        in order. True if the content changed.

        A change for a document that isn't open is ignored and returns True ("assume changed"):
        we cannot tell, and re-arming too much is safer than too little. A malformed change
        also returns True and forgets the open text, which can no longer be trusted.
        """
        doc = self._open.get(uri)
        if doc is None:
            return True
        try:
            after = edited(doc, changes, self._encoding)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            del self._open[uri]
            return True
        self._open[uri] = after
        return after is not doc

    def save(self, uri: str, text: str | None) -> bool:
        """didSave. True if the content now differs from what was known before.

        The disk changed, so its cache entry is dropped. Without `text` an open document keeps
        its open text (False); an unopened one is compared with a fresh read.
        """
        before = self._open.get(uri) or self._disk.get(uri)
        self._disk.pop(uri, None)
        self._missing.pop(uri, None)
        if text is not None:
            unchanged = before is not None and before.text == text
            doc = before if before is not None and unchanged else Text(text)  # keeps its hash
            if uri in self._open:
                self._open[uri] = doc
            else:
                self._cache(uri, doc)
            return not unchanged
        after = self.text(uri)
        return before is None or before.text != after

    def cached_version(self, uri: str) -> str | None:
        """content_hash of the open or cached text; None when neither (nothing is read)."""
        doc = self._open.get(uri) or self._disk.get(uri)
        return None if doc is None else doc.version()

    def known_version(self, uri: str) -> str | None:
        """content_hash of the open or cached text if it has been computed already (since its
        last change); None otherwise. Neither hashes nor reads: safe per keystroke."""
        doc = self._open.get(uri) or self._disk.get(uri)
        return None if doc is None else doc.known_version

    def needs_read(self, uri: str) -> bool:
        """True when keying from this document's text needs its file read or checked first: a
        ``file://`` URI, not open, and cached but not checked since the last question
        (``distrust_disk``), or neither cached nor found missing a moment ago."""
        if uri in self._disk and uri not in self._open:
            return self._checked.get(uri) != self._questions
        return self._unknown(uri)

    def _unknown(self, uri: str) -> bool:
        """Neither open nor cached: knowing the text means reading the file."""
        if uri in self._open or uri in self._disk or uri[:5].lower() != "file:":
            return False
        return self._missing.get(uri, 0.0) <= self._clock()

    def distrust_disk(self) -> None:
        """A question keyed from texts has arrived (a tracked request, a symbol list): no cached
        disk text keys it before its file has been checked again (proxy/reads.py)."""
        self._questions += 1

    def checked(self, uri: str) -> None:
        """The read gate found the file still holding the cached text: it keys again."""
        if uri in self._disk:
            self._checked[uri] = self._questions

    def loaded(self, uri: str, text: str | None, version: str | None = None) -> None:
        """What the read gate found, handed back on the event loop: cached (``version``: its
        content hash when the reader computed it), or remembered missing for a moment (so
        deciding the requests that waited for it reads nothing) and any cached text dropped."""
        if text is None:
            self._disk.pop(uri, None)
            self._missing[uri] = self._clock() + self.MISSING_SECONDS
        else:
            self._missing.pop(uri, None)
            self._cache(uri, Text(text, version))  # version: hashed by the reader, off the loop
            self._checked[uri] = self._questions

    def close(self, uri: str) -> None:
        """didClose: forget the open text; the disk (cached or read later) serves from now on."""
        self._open.pop(uri, None)
        self._numbers.pop(uri, None)

    def note_number(self, uri: str, number: Any) -> None:
        """The version number the client gave the document (didOpen, didChange)."""
        if isinstance(number, int) and not isinstance(number, bool):
            self._numbers[uri] = number

    def opened(self) -> list[tuple[str, str, int, str]]:
        """(uri, languageId, version number, text) of every open document whose text is
        known, in the order they were opened."""
        return [
            (uri, self._languages.get(uri, ""), self._numbers.get(uri, 0), doc.text)
            for uri, doc in self._open.items()
        ]

    def file_changed(self, uri: str) -> None:
        """workspace/didChangeWatchedFiles: the cached disk text may be stale."""
        self._disk.pop(uri, None)
        self._missing.pop(uri, None)

    def document(self, uri: str) -> Text | None:
        """The open text, else the cached disk text, as the immutable ``Text`` (the name
        rule keeps the one before a change: proxy/mentions.py)."""
        return self._lookup(uri)

    def text(self, uri: str) -> str | None:
        """The open text, else the cached disk text, else None (nothing is read here)."""
        doc = self._lookup(uri)
        return None if doc is None else doc.text

    def is_open(self, uri: str) -> bool:
        return uri in self._open

    def line(self, uri: str, n: int) -> str | None:
        """Line ``n`` of text(uri), split as LSP splits lines (\n, \r\n, \r only)."""
        doc = self._lookup(uri)
        return None if doc is None else doc.line(n)

    def version(self, uri: str) -> str | None:
        """content_hash of text(uri), computed when first asked for and kept until the text
        changes (an edit never hashes)."""
        doc = self._lookup(uri)
        return None if doc is None else doc.version()

    def version_later(self, uri: str) -> VersionLater:
        """The content_hash of text(uri) as it is now, computed only if and when it is
        called: for a request whose answer is recorded later."""
        return VersionLater(self._lookup(uri))

    def note_language(self, uri: str, language_id: Any) -> None:
        """didOpen's languageId: it picks the identifier rules (proxy.identifiers) for the
        document from now on, also once closed (its keys must not change with that)."""
        if isinstance(language_id, str):
            self._languages[uri] = language_id

    def identifier_at(
        self,
        uri: str,
        line: int,
        character: int,
        hint: str = "",
        until: tuple[int, int] | None = None,
    ) -> Identifier:
        """The identifier containing the position, else the one ending exactly at it, else
        ``Identifier(line, character, "")`` with the position as given (tracked by position).
        The identifier's start is in the graph's unit (proxy/units.py), so sessions on
        different encodings key one identifier alike; a position is converted only when its
        line is known.

        Identifiers follow the document's language (proxy.identifiers). ``hint`` is a server's
        name for a symbol whose position may be a whole declaration's start (SymbolInformation):
        its last part (after ``::`` or ``.``), found on the line at or after the position,
        moves the position there first. The name itself is never the identity: the text is.
        ``until`` is the end (line, character) of a server's range for the name (a
        selectionRange starting at the position): the identifier is then the one containing
        the position, else the first one inside the range (``*args``, ``"slot"``: the name
        after the punctuation), never one ending at the position.
        """
        doc = self._lookup(uri)
        # Only a stretch of the line around the position (a minified file's one line is
        # megabytes long): a name or hint longer than _REACH characters is not found whole.
        # `before` counts the line's code units ahead of the stretch in the graph's unit.
        found = (
            None if doc is None else doc.around(line, character, self._encoding, _REACH, GRAPH_UNIT)
        )
        if found is None:  # unknown text: the position as given (in the session's unit)
            return Identifier(line, character, "")
        text, idx, before = found
        rules = rules_for(self._languages.get(uri), uri)
        asked = idx
        if hint:
            idx = _hinted(text, idx, hint, rules)
        stop = _range_end(text, asked, character, line, until, self._encoding)
        if stop is not None and stop > idx:
            span = span_within(text, idx, stop, rules)
        else:
            span = span_at(text, idx, rules)
        if span is None:  # tracked by position: the one asked, in the graph's unit
            if before == 0 and len(text) <= 2 * _REACH:  # the whole line (past its end kept)
                return Identifier(line, to_graph(text, character, self._encoding), "")
            return Identifier(line, before + _to_units(text[:asked], GRAPH_UNIT), "")
        start, end = span
        return Identifier(line, before + _to_units(text[:start], GRAPH_UNIT), text[start:end])

    def symbol_at(
        self,
        uri: str,
        line: int,
        character: int,
        hint: str = "",
        until: tuple[int, int] | None = None,
    ) -> tuple[str, Identifier]:
        """(symbol_key, identifier) for a position (see identifier_at)."""
        ident = self.identifier_at(uri, line, character, hint, until)
        return symbol_key(uri, ident.line, ident.character, ident.name), ident

    def _lookup(self, uri: str) -> Text | None:
        # Memory only, by construction: a file's text arrives through ``loaded``.
        return self._open.get(uri) or self._disk.get(uri)

    def _cache(self, uri: str, doc: Text) -> None:
        if self._disk_cache_size > 0:
            self._disk[uri] = doc
