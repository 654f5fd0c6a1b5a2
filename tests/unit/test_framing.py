"""Framing: bytes in, whole frames out, whatever the chunking; junk reported and skipped."""

from __future__ import annotations

import json

import pytest

from lsp_backoff.proxy.framing import (
    HEAD_BYTES,
    MAX_HEADER_BYTES,
    Frame,
    FrameParser,
    Junk,
    Piece,
    encode,
    parse_content_length,
)


def frame(body: bytes, headers: bytes = b"") -> bytes:
    return b"Content-Length: %d\r\n%s\r\n%s" % (len(body), headers, body)


def feed_all(chunks: list[bytes]) -> list[Frame | Junk]:
    parser = FrameParser()
    out: list[Frame | Junk] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


def frames(items: list[Frame | Junk]) -> list[bytes]:
    return [i.body for i in items if isinstance(i, Frame)]


BODIES = [b'{"jsonrpc":"2.0","id":1,"method":"a"}', '{"x":"é😀"}'.encode(), b"{}"]


def test_whole_stream_in_one_read() -> None:
    stream = b"".join(frame(b) for b in BODIES)
    assert frames(feed_all([stream])) == BODIES


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_split_reads_give_the_same_frames(size: int) -> None:
    stream = b"".join(frame(b) for b in BODIES)
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    items = feed_all(chunks)
    assert frames(items) == BODIES
    assert not [i for i in items if isinstance(i, Junk)]


def test_raw_bytes_are_kept_exactly_including_extra_headers() -> None:
    raw = frame(b'{"id":1}', b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n")
    (item,) = feed_all([raw])
    assert isinstance(item, Frame)
    assert item.raw == raw
    assert item.body == b'{"id":1}'


@pytest.mark.parametrize("name", [b"content-length", b"CONTENT-LENGTH", b"Content-length"])
def test_header_names_are_case_insensitive(name: bytes) -> None:
    raw = name + b": 2\r\n\r\n{}"
    assert frames(feed_all([raw])) == [b"{}"]


def test_length_counts_bytes_not_characters() -> None:
    body = json.dumps({"t": "日本語😀"}, ensure_ascii=False).encode()
    assert len(body) != len(body.decode())
    assert frames(feed_all([frame(body) + frame(b"{}")])) == [body, b"{}"]


def test_multi_megabyte_body_in_64k_chunks() -> None:
    body = b'{"data":"' + b"x" * (5 << 20) + b'"}'
    stream = frame(body) + frame(b"{}")
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    assert frames(feed_all(chunks)) == [body, b"{}"]


def test_garbage_between_frames_is_reported_and_skipped() -> None:
    stream = frame(b"{}") + b"hello garbage\r\n" + frame(b"[1]")
    items = feed_all([stream])
    assert frames(items) == [b"{}", b"[1]"]
    junk = [i for i in items if isinstance(i, Junk)]
    assert len(junk) == 1 and junk[0].data == b"hello garbage\r\n"


def test_invalid_content_length_resynchronises_on_the_next_header() -> None:
    stream = b"Content-Length: abc\r\n\r\n{}" + frame(b"[2]")
    items = feed_all([stream])
    assert frames(items) == [b"[2]"]
    (junk,) = [i for i in items if isinstance(i, Junk)]
    assert "invalid Content-Length" in junk.reason


def test_missing_content_length_is_junk() -> None:
    stream = b"Content-Type: x\r\n\r\n{}" + frame(b"[3]")
    items = feed_all([stream])
    assert frames(items) == [b"[3]"]
    assert any("no Content-Length" in i.reason for i in items if isinstance(i, Junk))


def test_endless_header_is_dropped_without_growing_forever() -> None:
    parser = FrameParser()
    items = parser.feed(b"x" * (MAX_HEADER_BYTES * 3))
    assert items and all(isinstance(i, Junk) for i in items)
    assert parser.pending() <= len(b"content-length")
    assert frames(parser.feed(frame(b"{}"))) == [b"{}"]


def test_a_cut_frame_stays_pending() -> None:
    parser = FrameParser()
    assert parser.feed(frame(b'{"a":1}')[:-2]) == []
    assert parser.pending() > 0


def test_encode_round_trips() -> None:
    assert frames(feed_all([encode(b'{"z":0}')])) == [b'{"z":0}']


def test_parse_content_length_rejects_negative_and_lineless() -> None:
    assert parse_content_length(b"Content-Length: 12") == 12
    for bad in (b"Content-Length: -1", b"garbage", b"Content-Length: 1e3"):
        with pytest.raises(Exception, match=r"Content-Length|colon"):
            parse_content_length(bad)


@pytest.mark.parametrize("block", [b"Content-Length: abc\r\n\r\n", b"Content-Type: x\r\n\r\n"])
def test_a_rejected_header_block_alone_is_one_junk_item(block: bytes) -> None:
    parser = FrameParser()
    items = parser.feed(block)
    assert len(items) == 1 and isinstance(items[0], Junk) and items[0].data == block
    assert frames(parser.feed(frame(b"{}"))) == [b"{}"]


def stream_all(chunks: list[bytes], decide: bool) -> tuple[list[Frame | Junk | Piece], list[bytes]]:
    heads: list[bytes] = []

    def stream(head: bytes) -> bool:
        heads.append(head)
        return decide

    parser = FrameParser(stream=stream)
    out: list[Frame | Junk | Piece] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    assert parser.pending() == 0
    return out, heads


BIG = b'{"jsonrpc":"2.0","id":1,"method":"x","params":"' + b"y" * 300_000 + b'"}'


@pytest.mark.parametrize("first", [10, 100, 2000, 65536])
def test_a_large_frame_streams_as_pieces_when_accepted(first: int) -> None:
    stream = frame(BIG) + frame(b"{}")
    chunks = [stream[:first]] + [stream[i : i + 65536] for i in range(first, len(stream), 65536)]
    out, heads = stream_all(chunks, decide=True)
    pieces = b"".join(i.data for i in out if isinstance(i, Piece))
    assert pieces == frame(BIG)
    assert frames(out) == [b"{}"]
    assert heads == [BIG[:HEAD_BYTES]]
    # The first piece leaves before the last chunk has been read.
    assert isinstance(out[0], Piece) and len(out[0].data) < len(frame(BIG))


def test_a_large_frame_refused_for_streaming_comes_whole() -> None:
    stream = frame(BIG) + frame(b"{}")
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    out, heads = stream_all(chunks, decide=False)
    assert frames(out) == [BIG, b"{}"]
    assert len(heads) == 1


def test_small_frames_are_never_offered_for_streaming() -> None:
    stream = frame(b'{"a":"' + b"z" * 5000 + b'"}')
    out, heads = stream_all([stream[:100], stream[100:]], decide=True)
    assert heads == [] and len(frames(out)) == 1
