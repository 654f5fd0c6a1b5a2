"""The read gate: the one way the proxy gets a file's text, always read in a worker thread.

:class:`proxy.documents.Documents` answers from memory only. Whatever needs the text of a file
that is neither open nor cached — a tracked request's symbol key, a documentSymbol answer to
record, a didClose or didSave to compare, a watched file's new content hash — asks the gate
(``want``); the router hands the session a ``Read`` action per file (``wanted``), the session
runs what ``reader(uri)`` gives in a worker and hands the result back (``loaded``), and what
waited for it runs then. One read per file at a time; nothing else waits.

A cached text is checked, not trusted (issue 28): a file changes on disk without a word to the
proxy (``git checkout``, a formatter, another editor; many clients send no watched-files
events). Each question keyed from an unopened file — a tracked request, a symbol list — needs a
check of that file completed after the question arrived (``Documents.distrust_disk``), so the
question waits for one worker round trip; questions arriving while a check runs share it. The
check is a ``stat`` in the worker, compared with the ``Stamp`` taken when the text was read
(device, inode, size, mtime and ctime in nanoseconds): equal, the text is still the file's and
nothing is read. A file changed within ``RACY_NS`` of the moment it was read is *racy*, as git
calls it: a later write can leave every timestamp the same (1-2 s granularity on HFS+, FAT,
some NFS; the kernel's coarse clock on ext4), so its stat vouches for nothing and it is read
again and compared by content until a read happens well after its last change. A text found
different is handed to ``changed`` (the router: the watched-file rules, proxy/sync.py) before
anything waiting for the check is keyed; a file gone is handed over the same way.

Why per question and not a trust window: a window lets a request key from a text as old as
the window, against the goal "no key from a text that differs from the file when the request
was forwarded"; a check costs one worker round trip per file per burst — measured +190 µs at
the median for a request sent alone, nothing measurable for a burst of 50 sharing one check
(benchmarks/bench_disk_checks.py, load 6) — small beside any server's own answer time.
"""

from __future__ import annotations

import functools
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from cachetools import LRUCache

from lsp_backoff.proxy.actions import Read
from lsp_backoff.proxy.documents import Documents, content_hash
from lsp_backoff.proxy.text import Text

#: Larger files are not read: their symbols are tracked by position (no name).
MAX_FILE_BYTES = 4 << 20
#: A file whose last change (mtime or ctime) is this close to the moment it was read is not
#: vouched for by its stat (see the module docstring): 2 s covers FAT's mtime, HFS+ and the
#: coarse clocks of local filesystems; a remote one with a skewed clock is beyond any rule.
RACY_NS = 2_000_000_000
#: The wall clock in nanoseconds, the one file timestamps are taken from (tests replace it).
wall_ns: Callable[[], int] = time.time_ns


@dataclass(frozen=True, slots=True)
class Stamp:
    """What ``stat`` said of a file when its text was read; ``racy``: changed so shortly
    before that a later write may carry the same timestamps."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    racy: bool

    def vouches_for(self, st: os.stat_result) -> bool:
        """True when ``st`` proves the file is still the one this stamp was taken of."""
        return not self.racy and self == stamp_of(st, False)


def stamp_of(st: os.stat_result, racy: bool) -> Stamp:
    return Stamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, racy)


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a read found: the text and its content hash (both computed in the worker), or
    None for both when there is no readable regular file behind the URI. ``same``: the file is
    still the one the known stamp was taken of (nothing read); ``gone``: no file there at all."""

    text: str | None
    version: str | None
    stamp: Stamp | None = None
    same: bool = False
    gone: bool = False


NOTHING = Loaded(None, None)
GONE = Loaded(None, None, gone=True)


def url2pathname(path: str) -> str:
    """What urllib.request.url2pathname does, without importing ssl and http (~40 ms)."""
    if os.name == "nt":
        from nturl2path import url2pathname as nt

        return nt(path)
    return unquote(path)


def _path(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    return url2pathname(parts.path)


def check_file(uri: str, known: Stamp | None = None, max_bytes: int = MAX_FILE_BYTES) -> Loaded:
    """The file behind a ``file://`` URI, if it is a regular file of at most ``max_bytes``:
    ``same`` without reading when ``known`` vouches for it, else its text, hash and stamp.
    Blocking; never raises."""
    started = wall_ns()
    try:
        path = _path(uri)
        if path is None:
            return NOTHING
        # stat first: opening a FIFO or device for reading could block or never end.
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return NOTHING
        if known is not None and known.vouches_for(st):
            return Loaded(None, None, known, same=True)
        with open(path, "rb") as f:
            # The stamp of what is read (a rename may have replaced the file since the stat),
            # taken before reading: a write during the read changes it, and is seen next time.
            st = os.fstat(f.fileno())
            data = f.read(max_bytes + 1)
    except (FileNotFoundError, NotADirectoryError):
        return GONE
    except (OSError, ValueError):  # unreadable, or a NUL/garbage path: no text, not an error
        return NOTHING
    if len(data) > max_bytes or not stat.S_ISREG(st.st_mode):
        return NOTHING  # grew between stat and read, or replaced by something else
    # utf-8-sig: editors do not count a byte-order mark in positions.
    text = data.decode("utf-8-sig", errors="replace")
    racy = max(st.st_mtime_ns, st.st_ctime_ns) >= started - RACY_NS
    return Loaded(text, content_hash(text), stamp_of(st, racy))


def read_file(uri: str, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """The text of the file behind a ``file://`` URI (see ``check_file``); None when there is
    none. Blocking; never raises."""
    return check_file(uri, None, max_bytes).text


#: ``changed(uri, before, gone)``: the cached text ``before`` of an unopened file is no longer
#: the file's (``gone``: no file there any more); Documents already holds what was found.
Changed = Callable[[str, Text, bool], None]


class ReadGate:
    def __init__(
        self,
        documents: Documents,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        changed: Changed | None = None,
    ) -> None:
        self.documents = documents
        self.max_file_bytes = max_file_bytes
        self.changed = changed
        self._waiting: dict[str, list[Callable[[], None]]] = {}
        self._reading: set[str] = set()
        self._wanted: list[str] = []
        # The stamp of each cached text, with the text it was taken for (a text replaced
        # since — a didSave's — is not vouched for by it).
        self._stamps: LRUCache[str, tuple[Text, Stamp]] = LRUCache(maxsize=10_000)

    def want(self, uri: str, then: Callable[[], None] | None = None) -> None:
        """Have ``uri`` read or checked (once, however many ask); run ``then`` after it is
        loaded."""
        if then is not None:
            self._waiting.setdefault(uri, []).append(then)
        if uri not in self._reading:
            self._reading.add(uri)
            self._wanted.append(uri)

    def wanted(self) -> list[Read]:
        """A ``Read`` per file asked for since the last call."""
        if not self._wanted:
            return []
        wanted, self._wanted = self._wanted, []
        return [Read(uri) for uri in wanted]

    def reader(self, uri: str) -> Callable[[], Loaded]:
        """On the loop: what to run in a worker for ``uri`` — a check against the stamp of its
        cached text when there is one, else a read."""
        return functools.partial(self.read, uri, self._known(uri))

    def read(self, uri: str, known: Stamp | None = None) -> Loaded:
        """Run in a worker thread, never on the loop: the file and its content hash."""
        return check_file(uri, known, self.max_file_bytes)

    def loaded(self, uri: str, found: Loaded) -> list[Callable[[], None]]:
        """Back on the loop: remember what ``read`` found; return what waited for it. A cached
        text found different goes to ``changed`` first."""
        self._reading.discard(uri)
        docs = self.documents
        before = None if docs.is_open(uri) else docs.document(uri)
        if found.same and before is None:
            pass  # the text was dropped while its file was checked: read next time
        elif before is not None and (found.same or _same_text(before, found)):
            docs.checked(uri)  # the text stays (and keeps its hash, its identity)
            if found.stamp is not None:
                self._stamps[uri] = (before, found.stamp)
        else:
            docs.loaded(uri, found.text, found.version)
            after = docs.document(uri)
            if found.stamp is not None and after is not None and not docs.is_open(uri):
                self._stamps[uri] = (after, found.stamp)
            else:
                self._stamps.pop(uri, None)
            if before is not None and self.changed is not None:
                self.changed(uri, before, found.gone)
        return self._waiting.pop(uri, [])

    def clear(self) -> None:
        """The session is ending: nothing waits for a read any more."""
        self._waiting.clear()
        self._wanted.clear()

    def _known(self, uri: str) -> Stamp | None:
        known = self._stamps.get(uri)
        if known is None or self.documents.is_open(uri):
            return None
        text, stamp = known
        return stamp if self.documents.document(uri) is text else None


def _same_text(before: Text, found: Loaded) -> bool:
    """Is what was read the text already cached? By hash when both are known (no hashing on
    the loop), else by the texts."""
    if found.text is None:
        return False
    known = before.known_version
    if known is not None and found.version is not None:
        return known == found.version
    return before.text == found.text
