"""FrameParser under arbitrary chunking, streaming decisions and corrupted headers."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from lsp_backoff.proxy.framing import STREAM_MIN_BYTES, Frame, FrameParser, Junk, Piece

# Header variants peers send: any case, spaces around the value, other headers around it.
HEADERS = st.sampled_from(
    [
        b"Content-Length: %d\r\n",
        b"content-length:%d\r\n",
        b"CONTENT-LENGTH :  %d \r\n",
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: %d\r\n",
        b"Content-Length: %d\r\nX-Other: 1\r\n",
    ]
)
BODIES = st.one_of(
    st.binary(max_size=300),
    # Large enough for the streaming path (a Piece per read once the head is accepted).
    st.builds(
        lambda n, b: b * n,
        st.integers(STREAM_MIN_BYTES, STREAM_MIN_BYTES + 5000),
        st.sampled_from([b"x", b"\r\n\r\n", b"Content-Length: 1\r\n\r\n"]),
    ),
)


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, bytes]:
    body = draw(BODIES)
    return draw(HEADERS) % len(body) + b"\r\n" + body, body


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` split at the given points (sorted, deduplicated, in range)."""
    edges = [0, *sorted({p % (len(data) + 1) for p in points}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


def run(parser: FrameParser, chunks: list[bytes]) -> list[Frame | Junk | Piece]:
    out: list[Frame | Junk | Piece] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


@given(
    st.lists(frames(), max_size=8),
    st.lists(st.integers(min_value=0), max_size=40),
    st.sampled_from([None, True, False]),
)
def test_any_chunking_gives_back_every_frame_byte_for_byte(
    items: list[tuple[bytes, bytes]], points: list[int], stream: bool | None
) -> None:
    stream_cb = None if stream is None else (lambda head: stream)
    data = b"".join(raw for raw, _ in items)
    parser = FrameParser(stream=stream_cb)
    out = run(parser, cut(data, points))
    assert not [item for item in out if isinstance(item, Junk)]
    assert parser.pending() == 0
    # Forwarded as it came: frames whole or in pieces, concatenated, are the input.
    assert b"".join(i.raw if isinstance(i, Frame) else i.data for i in out) == data  # type: ignore[union-attr]
    # Each streamed frame ends with exactly one last piece, and nothing comes between its pieces.
    runs, open_stream = 0, False
    for item in out:
        if isinstance(item, Piece):
            open_stream = not item.last
            runs += item.last
        else:
            assert not open_stream, "a frame came out in the middle of a streamed one"
    assert not open_stream
    assert runs == len(items) - len([i for i in out if isinstance(i, Frame)])
    whole = [item for item in out if isinstance(item, Frame)]
    if stream is not True:  # nothing streamed: every frame comes out whole, body exact
        assert [f.body for f in whole] == [body for _, body in items]
        assert [f.raw for f in whole] == [raw for raw, _ in items]


# Junk without "c"/"C" cannot hold a Content-Length header, and without a colon it cannot pass
# for a header line: the parser must drop it (or, if it is only blanks, read it as part of the
# next header block) and find every frame after it.
JUNK = st.binary(max_size=200).map(lambda b: b.translate(None, b"cC:")) | st.sampled_from(
    [b"\r\n", b"\r\n\r\n", b"garbage\r\n\r\n", b"\x00\xff\r\n"]
)


@given(
    st.lists(st.tuples(JUNK, frames()), min_size=1, max_size=6),
    st.lists(st.integers(min_value=0), max_size=30),
)
def test_junk_between_frames_is_dropped_and_every_frame_recovered(
    items: list[tuple[bytes, tuple[bytes, bytes]]], points: list[int]
) -> None:
    data = b"".join(junk + raw for junk, (raw, _) in items) + b"garbage at the end"
    parser = FrameParser()
    out = run(parser, cut(data, points))
    assert [item.body for item in out if isinstance(item, Frame)] == [b for _, (_, b) in items]
    seen = sum(len(i.raw) if isinstance(i, Frame) else len(i.data) for i in out)  # type: ignore[union-attr]
    assert seen + parser.pending() == len(data)


CORRUPT = st.sampled_from(
    [
        b"Content-Length: -5\r\n\r\n",
        b"Content-Length: abc\r\n\r\n",
        b"Content-Length: 99999999999999999999999\r\n\r\n",
        b"Content-Length:\r\n\r\n",
        b"Content-Length 12\r\n\r\n",
        b"Content-Length: 1 2\r\n\r\n",
        b"Content-Length: \xff\r\n\r\n",
        b"\r\n\r\n",
        b"Content-Length: 3\r\nContent-Length: x\r\n\r\n",
        b"Content-Length: 5\n\n",
        b"Content-Length: 0x10\r\n\r\n",
        b"Content-Length: \xd9\xa3\r\n\r\n",  # an Arabic-Indic digit: isdigit() on str is True
        b"Content-Length: " + b"9" * 9000,
        b"X" * 9000,  # a header block that never ends
    ]
)


@given(
    st.lists(st.one_of(frames(), st.tuples(CORRUPT, st.just(None))), max_size=10),
    st.lists(st.integers(min_value=0), max_size=40),
)
def test_corrupted_headers_never_raise_and_every_byte_is_accounted_for(
    items: list[tuple[bytes, bytes | None]], points: list[int]
) -> None:
    data = b"".join(raw for raw, _ in items)
    parser = FrameParser()
    out = run(parser, cut(data, points))
    seen = sum(len(i.raw) if isinstance(i, Frame) else len(i.data) for i in out)  # type: ignore[union-attr]
    assert seen + parser.pending() == len(data)
    for item in out:
        if isinstance(item, Frame):
            assert item.raw in data  # a frame is bytes of the input, never a rewrite
