"""Bytes to framed LSP messages, and back.

The framer knows nothing of methods or JSON: it splits a byte stream into frames of
``header + body`` (base protocol, ``specification.md`` "Header Part") and hands back each
frame's raw bytes so the caller can forward exactly what it received. Header names are
matched case-insensitively, unknown headers (``Content-Type``) are kept and ignored, and the
length counts bytes. Anything that is not a frame — garbage between frames, a header block
without a valid ``Content-Length`` — is returned as :class:`Junk` and the framer
resynchronises on the next ``Content-Length`` header.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from lsp_backoff.tracker.errors import LspBackoffError

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
#: A header block longer than this without its blank line is not a header block.
MAX_HEADER_BYTES = 8192


class FramingError(LspBackoffError):
    """A header block that cannot be parsed (reported through :class:`Junk`, not raised)."""


class Frame(NamedTuple):
    """One message as received: ``raw`` is header and body, the body starts at ``body_start``."""

    raw: bytes
    body_start: int

    @property
    def body(self) -> bytes:
        return self.raw[self.body_start :]


class Junk(NamedTuple):
    """Bytes that are not part of any frame, and why."""

    data: bytes
    reason: str


def encode(body: bytes) -> bytes:
    """Frame a body the proxy itself produced (local answers, cancellations)."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


_PLAIN = b"Content-Length: "


def parse_content_length(header: bytes) -> int:
    """Return the Content-Length of a header block (without the final blank line)."""
    # The header nearly every peer sends, parsed without splitting anything.
    if header.startswith(_PLAIN) and b"\r\n" not in header:
        value = header[len(_PLAIN) :]
        if value.isdigit():
            return int(value)
    length: int | None = None
    for line in header.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            raise FramingError(f"header line without a colon: {line[:60]!r}")
        if name.strip().lower() == b"content-length":
            text = value.strip()
            if not text.isdigit():
                raise FramingError(f"invalid Content-Length {text[:30]!r}")
            length = int(text)
    if length is None:
        raise FramingError("no Content-Length header")
    return length


class Piece(NamedTuple):
    """Part of a large frame passed on before the rest has arrived (see FrameParser).

    Until its ``last`` piece, whoever else writes to the same pipe must wait, or its bytes
    would land inside that frame.
    """

    data: bytes
    last: bool = False


#: A body at least this large may be passed on piece by piece as it arrives.
STREAM_MIN_BYTES = 64 * 1024
#: How much of a body the ``stream`` callback sees to decide.
HEAD_BYTES = 1024


class FrameParser:
    """Incremental framer: feed it chunks as they arrive, get whole frames back.

    Copies are what cost on large bodies, so: a chunk holding whole frames is sliced (a frame
    that is the whole chunk is not copied at all); a body that spans chunks is collected in a
    list and joined once when complete; only a partial header block is carried over.

    A frame of at least STREAM_MIN_BYTES whose first HEAD_BYTES the ``stream`` callback
    accepts is not collected at all: it comes out as :class:`Piece` items, as it arrives, so
    the proxy forwards it while it is still being read — like a byte pipe, for messages the
    proxy has no reason to look inside.
    """

    def __init__(self, stream: Callable[[bytes], bool] | None = None) -> None:
        self._stream = stream
        self._head = b""  # the start of a header block cut by a read
        self._chunks: list[bytes] | None = None  # a frame's pieces, while its body arrives
        self._have = 0
        self._size = 0
        self._body_start = 0
        self._undecided = False  # a large frame whose head has not been seen in full yet
        self._streaming = 0  # bytes of a streamed frame still to pass on

    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame (non-zero at EOF: a cut frame)."""
        held = self._have if self._chunks is not None else 0
        return len(self._head) + held + self._streaming

    def feed(self, data: bytes) -> list[Frame | Junk | Piece]:
        out: list[Frame | Junk | Piece] = []
        if self._streaming:
            take = min(len(data), self._streaming)
            self._streaming -= take
            out.append(Piece(data if take == len(data) else data[:take], not self._streaming))
            data = data[take:]
        elif self._chunks is not None:
            self._chunks.append(data)
            self._have += len(data)
            # Decide once the head is here, unless this read completes the frame anyway.
            if self._undecided and self._body_start + HEAD_BYTES <= self._have < self._size:
                joined = b"".join(self._chunks)
                self._chunks = [joined]
                if self._start_stream(joined, 0, out):
                    return out
            if self._have < self._size:
                return out
            data = b"".join(self._chunks)
            self._chunks = None
            out.append(Frame(data[: self._size], self._body_start))
            data = data[self._size :]
        elif self._head:
            data = self._head + data
            self._head = b""
        if data:
            self._frames(data, out)
        return out

    def _start_stream(self, data: bytes, pos: int, out: list[Frame | Junk | Piece]) -> bool:
        """Decide on a large frame whose head is in ``data[pos:]``; start streaming it."""
        self._undecided = False
        body = pos + self._body_start
        if self._stream is None or not self._stream(data[body : body + HEAD_BYTES]):
            return False
        out.append(Piece(data if pos == 0 else data[pos:]))
        self._streaming = self._size - (len(data) - pos)
        self._chunks = None
        return True

    def _frames(self, data: bytes, out: list[Frame | Junk | Piece]) -> None:
        pos, n = 0, len(data)
        while pos < n:
            end = data.find(_HEADER_END, pos, pos + MAX_HEADER_BYTES + len(_HEADER_END))
            if end < 0:
                if n - pos <= MAX_HEADER_BYTES:
                    self._head = data[pos:]
                    return
                reason = f"no end of header within {MAX_HEADER_BYTES} bytes"
                pos = self._skip(data, pos, None, out, reason)
                continue
            try:
                length = parse_content_length(data[pos:end])
            except FramingError as exc:
                pos = self._skip(data, pos, end + len(_HEADER_END), out, str(exc))
                continue
            body_start = end + len(_HEADER_END) - pos
            size = body_start + length
            if pos + size > n:  # the body goes on in later reads
                self._size, self._body_start = size, body_start
                self._undecided = length >= STREAM_MIN_BYTES and self._stream is not None
                head_here = n - pos >= body_start + HEAD_BYTES
                if self._undecided and head_here and self._start_stream(data, pos, out):
                    return
                self._chunks = [data[pos:]]
                self._have = n - pos
                return
            whole = pos == 0 and size == n  # the common case: one read, one frame, no copy
            out.append(Frame(data if whole else data[pos : pos + size], body_start))
            pos += size

    @staticmethod
    def _skip(
        data: bytes, pos: int, block_end: int | None, out: list[Frame | Junk | Piece], reason: str
    ) -> int:
        """Report bytes up to the next Content-Length header as junk; return where to go on.

        With no next header in sight, a rejected header block is dropped whole; other bytes
        keep a tail that could be the start of a header split across reads.
        """
        match = _CONTENT_LENGTH.search(data, pos + 1)
        if match:
            cut = match.start()
        elif block_end is not None:
            cut = block_end
        else:
            cut = max(len(data) - len(b"content-length"), pos + 1)
        out.append(Junk(data[pos:cut], reason))
        return cut
