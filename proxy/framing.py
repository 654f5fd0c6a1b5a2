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
from dataclasses import dataclass

from tracker.errors import LspBackoffError

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
#: A header block longer than this without its blank line is not a header block.
MAX_HEADER_BYTES = 8192


class FramingError(LspBackoffError):
    """A header block that cannot be parsed (reported through :class:`Junk`, not raised)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message as received: ``raw`` is header and body, the body starts at ``body_start``."""

    raw: bytes
    body_start: int

    @property
    def body(self) -> bytes:
        return self.raw[self.body_start :]


@dataclass(frozen=True, slots=True)
class Junk:
    """Bytes that are not part of any frame, and why."""

    data: bytes
    reason: str


def encode(body: bytes) -> bytes:
    """Frame a body the proxy itself produced (local answers, cancellations)."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def parse_content_length(header: bytes) -> int:
    """Return the Content-Length of a header block (without the final blank line)."""
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


class FrameParser:
    """Incremental framer: feed it chunks as they arrive, get whole frames back."""

    def __init__(self) -> None:
        self._buf = bytearray()
        # Once a header is parsed we remember the frame's total size, so a multi-MB body
        # arriving in many chunks costs one length check per chunk, not a re-parse.
        self._frame_size: int | None = None
        self._body_start = 0

    def feed(self, data: bytes) -> list[Frame | Junk]:
        buf = self._buf
        buf += data
        out: list[Frame | Junk] = []
        while True:
            if self._frame_size is None and not self._parse_header(out):
                break
            size = self._frame_size
            assert size is not None
            if len(buf) < size:
                break
            out.append(Frame(bytes(buf[:size]), self._body_start))
            del buf[:size]
            self._frame_size = None
        return out

    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame (non-zero at EOF: a cut frame)."""
        return len(self._buf)

    def _parse_header(self, out: list[Frame | Junk]) -> bool:
        buf = self._buf
        while buf:
            end = buf.find(_HEADER_END, 0, MAX_HEADER_BYTES + len(_HEADER_END))
            if end < 0:
                if len(buf) <= MAX_HEADER_BYTES:
                    return False
                self._skip(out, f"no end of header within {MAX_HEADER_BYTES} bytes")
                continue
            try:
                length = parse_content_length(bytes(buf[:end]))
            except FramingError as exc:
                self._skip(out, str(exc))
                continue
            self._body_start = end + len(_HEADER_END)
            self._frame_size = self._body_start + length
            return True
        return False

    def _skip(self, out: list[Frame | Junk], reason: str) -> None:
        """Drop bytes up to the next Content-Length header (or all but a possible prefix)."""
        buf = self._buf
        match = _CONTENT_LENGTH.search(buf, 1)
        # Without a next header, keep a tail that could be one split across reads.
        cut = match.start() if match else max(len(buf) - len(b"content-length"), 1)
        out.append(Junk(bytes(buf[:cut]), reason))
        del buf[:cut]
