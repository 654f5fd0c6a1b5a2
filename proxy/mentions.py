"""The name rule for an editor's session (issue 13; tracker/staleness.py): when a document's
content changes, symbols elsewhere whose names the edit added or removed in code (issue 24,
proxy/edits.py: a comment or docstring word names nothing) — or, for a text longer than
DIFF_LIMIT or one side unknown, that its old or new text mentions — are re-armed for
the operations another file can change (references, implementation, incoming and outgoing
calls), and answers pointing into it stop counting (the target rule runs with it).

Nothing here runs on the forwarding path beyond a dictionary lookup under an uncontended lock:
a content change (proxy/sync.py) hands over the text before and after — immutable ``Text``
objects (proxy/text.py), so holding one costs only the chunks edited since — and the names are
found on the graph store's writer thread when it takes the write (``GraphStore.rearm`` with a
callable). Each chunk's identifiers are found once and kept on the chunk, which every later
text shares until it is edited: a keystroke in a 10 MB file — or in a 2.5 MB file on one line,
whose line is in pieces too, never cut inside a word — costs the ~8 KB chunk it touched and
one union of kept sets, not a scan of the file (a scan in one call would hold the GIL for
seconds: long chunks are scanned a slice at a time, so the relay's thread gets its turns).
Whether the content came back is decided chunk by chunk too (``Text.same_as``).

Coalesced: while the rule for a document waits in the writer's queue, further changes only move
its "after" text; the writer runs the rule once, for the text before the first change and the
text after the last. A text in between needs no names of its own: an answer recorded while it
was current either points into the document (the target rule removes it) or lacks a mention
the text after still has (named then) — or the mention is gone again and the answer is right.
What it can miss: an answer *computed* before the change and recorded after the rule ran (a
request in flight across an edit) — `enrich --watch` holds its questions around a change, an
editor's session does not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from lsp_backoff.proxy.edits import compare, implicit_members
from lsp_backoff.proxy.text import Text
from lsp_backoff.tracker.moves import Edited, LineMap
from lsp_backoff.tracker.staleness import SITE_OPERATIONS, STALE_OPERATIONS

#: An identifier as most languages spell one: a letter or underscore, then word characters.
IDENTIFIER = re.compile(r"\b[^\W\d]\w*")
_NON_WORD = re.compile(r"\W")
#: A chunk longer than this (a file opened and not edited yet is one chunk) is scanned in
#: slices of whole lines about this long: ~2 ms each, so the GIL changes hands in between.
_SLICE = 8192

#: Texts up to this many characters are diffed (proxy/edits.py: the names the edit added or
#: removed); a longer one is named by its edited chunks' words, as before. The diff tokenizes
#: both whole texts (Python) on the writer thread, holding the GIL the relay needs: with the
#: limit at 1,000,000 a definition after 20 keystrokes in a 100 KB file waited +16 ms p50 over
#: the relay (20 KB: +6.9 ms; `bench_edits.py --sizes 5k,20k,100k`); at 8,000: +0.5-0.6 ms for
#: 5 KB, 20 KB and 100 KB alike. `enrich --watch` diffs every size, in a thread of its own.
DIFF_LIMIT = 8_000

#: ``rearm(uri, names, operations)``: the store's (``GraphStore.rearm``); `names` is called
#: on the writer thread and returns the names, or None when there is nothing to do.
Rearm = Callable[[str, Callable[[], frozenset[str] | Edited | None], Collection[str]], None]


def identifiers(text: str) -> frozenset[str]:
    """Every identifier-like word of `text` (keywords too: they match no symbol's name)."""
    if len(text) <= 2 * _SLICE:
        return frozenset(IDENTIFIER.findall(text))
    found: set[str] = set()
    start = 0
    while start < len(text):
        # Cut after a line break, else (one long line) after a non-word character: no
        # identifier spans either, and \b sees the real neighbour.
        end = text.find("\n", start + _SLICE, start + 4 * _SLICE)
        if end < 0:
            found_at = _NON_WORD.search(text, start + _SLICE)
            end = len(text) - 1 if found_at is None else found_at.start()
        end += 1
        found.update(IDENTIFIER.findall(text, start, end))
        start = end
    return frozenset(found)


def mentioned(*texts: Text | None) -> frozenset[str]:
    """The identifiers any of `texts` mentions; chunks the texts share are looked at once."""
    sets: dict[int, frozenset[str]] = {}
    for text in texts:
        for words in text.chunk_words(identifiers) if text is not None else ():
            sets[id(words)] = words  # one set per chunk: shared chunks share theirs
    return frozenset().union(*sets.values())


@dataclass
class _Pending:
    before: Text | None
    after: Text | None
    taken: bool = False


class Mentions:
    """One per core: the name rule's writes, at most one waiting per document."""

    def __init__(self, rearm: Rearm) -> None:
        self._rearm = rearm
        self._pending: dict[str, _Pending] = {}
        # Taken by the loop (changed) and the writer thread (_names), each for a few steps.
        self._lock = threading.Lock()
        #: Rules handed to the store / changes folded into one already waiting (tests).
        self.queued = 0
        self.coalesced = 0

    def changed(self, uri: str, before: Text | None, after: Text | None) -> None:
        """The content of `uri` went from `before` to `after` (None: not known — a file
        never read, or gone). Cheap: no text is looked at here."""
        if before is None and after is None:
            return  # nothing to name; the target rule runs when the new version is recorded
        with self._lock:
            waiting = self._pending.get(uri)
            if waiting is not None and not waiting.taken:
                waiting.after = after  # its `before` stays the text before the first change
                self.coalesced += 1
                return
            job = self._pending[uri] = _Pending(before, after)
        self.queued += 1
        self._rearm(uri, lambda: self._names(uri, job), STALE_OPERATIONS)

    def _names(self, uri: str, job: _Pending) -> frozenset[str] | Edited | None:
        """On the writer thread: the edit from the text before to the text after (its line
        map and the names it changed: the rows move, tracker/moves.py), else the names of
        both texts; None when the content is the same after all (an edit undone before the
        writer got to it)."""
        with self._lock:
            job.taken = True
            if self._pending.get(uri) is job:
                del self._pending[uri]
            before, after = job.before, job.after
        if before is after or (
            before is not None and after is not None and before.same_as(after)
        ):  # compared chunk by chunk: the chunks both share are not looked at
            return None
        if (
            before is not None
            and after is not None
            and max(before.length(), after.length()) <= DIFF_LIMIT
        ):
            # Only what the edit added or removed (issue 24, proxy/edits.py), and the rows
            # move through its line map when the graph holds the text before.
            edit = compare(before.text, after.text, uri)
            return Edited(
                before.version(),
                after.version(),
                LineMap(edit.blocks, edit.holes),
                edit.names,
                SITE_OPERATIONS if edit.names else (),
                implicit_members(uri),
            )
        return mentioned(before, after)
