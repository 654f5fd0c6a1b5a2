"""The read gate: the one way the proxy gets a file's text, always read in a worker thread.

:class:`proxy.documents.Documents` answers from memory only. Whatever needs the text of a file
that is neither open nor cached — a tracked request's symbol key, a documentSymbol answer to
record, a didClose or didSave to compare, a watched file's new content hash — asks the gate
(``want``); the router hands the session a ``Read`` action per file (``wanted``), the session
runs ``read`` in a worker and gives the result back (``loaded``), and what waited for it runs
then. One read per file at a time; nothing else waits.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lsp_backoff.proxy.actions import Read
from lsp_backoff.proxy.documents import Documents, content_hash

#: Larger files are not read: their symbols are tracked by position (no name).
MAX_FILE_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a read found: the text and its content hash (both computed in the worker), or
    None for both when there is no readable regular file behind the URI."""

    text: str | None
    version: str | None


NOTHING = Loaded(None, None)


def url2pathname(path: str) -> str:
    """What urllib.request.url2pathname does, without importing ssl and http (~40 ms)."""
    if os.name == "nt":
        from nturl2path import url2pathname as nt

        return nt(path)
    return unquote(path)


def read_file(uri: str, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """The file behind a ``file://`` URI, if it is a regular file of at most ``max_bytes``;
    None otherwise. Blocking; never raises."""
    try:
        parts = urlsplit(uri)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = url2pathname(parts.path)
        # stat first: opening a FIFO or device for reading could block or never end.
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except (OSError, ValueError):  # unreadable, or a NUL/garbage path: no text, not an error
        return None
    if len(data) > max_bytes:
        return None  # grew between stat and read
    # utf-8-sig: editors do not count a byte-order mark in positions.
    return data.decode("utf-8-sig", errors="replace")


class ReadGate:
    def __init__(self, documents: Documents, *, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self.documents = documents
        self.max_file_bytes = max_file_bytes
        self._waiting: dict[str, list[Callable[[], None]]] = {}
        self._reading: set[str] = set()
        self._wanted: list[str] = []

    def want(self, uri: str, then: Callable[[], None] | None = None) -> None:
        """Have ``uri`` read (once, however many ask); run ``then`` after it is loaded."""
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

    def read(self, uri: str) -> Loaded:
        """Run in a worker thread, never on the loop: the file and its content hash."""
        text = read_file(uri, self.max_file_bytes)
        return NOTHING if text is None else Loaded(text, content_hash(text))

    def loaded(self, uri: str, found: Loaded) -> list[Callable[[], None]]:
        """Back on the loop: remember what ``read`` found; return what waited for it."""
        self._reading.discard(uri)
        self.documents.loaded(uri, found.text, found.version)
        return self._waiting.pop(uri, [])

    def clear(self) -> None:
        """The session is ending: nothing waits for a read any more."""
        self._waiting.clear()
        self._wanted.clear()
