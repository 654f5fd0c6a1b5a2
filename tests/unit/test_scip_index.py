"""benchmarks/scip_index.py, the SCIP reader bench_scip.py compares with, on bytes built here by
the protobuf encoding rules (https://protobuf.dev/programming-guides/encoding/) and the field
numbers of scip.proto — independently of the reader's own decoding. tests/real/test_scip_python.py
reads an index written by the real scip-python."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import scip_index


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # a negative int32 is written as its 64-bit two's complement: 10 bytes
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def vfield(number: int, value: int) -> bytes:
    return tag(number, 0) + varint(value)


def bfield(number: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return tag(number, 2) + varint(len(raw)) + raw


def packed(number: int, values: list[int]) -> bytes:
    return bfield(number, b"".join(varint(v) for v in values))


SYMBOL = "scip-python python pkg 1.0 `pkg.mod`/Thing#"


def sample_index() -> bytes:
    tool = bfield(1, "scip-python") + bfield(2, "0.6.6") + bfield(3, "index")  # 3: arguments
    metadata = vfield(1, 0) + bfield(2, tool) + bfield(3, "file:///w") + vfield(4, 1)
    definition = packed(1, [3, 6, 11]) + bfield(2, SYMBOL) + vfield(3, 1)  # one-line range
    # Unpacked range (one tag per element, which parsers must accept), a four-element range,
    # and fields the reader does not know: a fixed64, a fixed32, a string, a nested message.
    reference = (
        b"".join(vfield(1, v) for v in (7, 4, 8, 2))
        + bfield(2, SYMBOL)
        + vfield(3, 8)
        + tag(9, 1) + (2**64 - 1).to_bytes(8, "little")
        + tag(10, 5) + (7).to_bytes(4, "little")
        + bfield(4, "override docs")
        + bfield(6, vfield(1, 1) + bfield(3, "a diagnostic"))
    )  # fmt: skip
    information = bfield(1, SYMBOL) + bfield(3, "doc") + vfield(5, 7) + bfield(6, "Thing")
    document = (
        bfield(4, "python") + bfield(1, "pkg/mod.py") + bfield(2, definition)
        + bfield(2, reference) + bfield(3, information) + vfield(6, 3)
    )  # fmt: skip
    external = bfield(1, "scip-python python python-stdlib 3.11 builtins/int#")
    return (
        bfield(1, metadata)
        + bfield(2, document)
        + bfield(2, bfield(1, "b.py"))
        + bfield(3, external)
    )


def test_reads_metadata_documents_occurrences_and_symbols() -> None:
    index = scip_index.parse(sample_index())
    assert (index.tool, index.version, index.project_root) == ("scip-python", "0.6.6", "file:///w")
    assert [d.path for d in index.documents] == ["pkg/mod.py", "b.py"]
    doc = index.documents[0]
    assert (doc.language, doc.position_encoding) == ("python", scip_index.UTF32)
    assert doc.occurrences == [
        scip_index.Occurrence(3, 6, 3, 11, SYMBOL, 1),  # three elements: the end on line 3
        scip_index.Occurrence(7, 4, 8, 2, SYMBOL, 8),
    ]
    assert [o.is_definition for o in doc.occurrences] == [True, False]
    assert doc.symbols == {SYMBOL: (7, "Thing")}
    assert index.documents[1].occurrences == []


def test_negative_int32_and_large_varints() -> None:
    occurrence = packed(1, [0, -1, 300]) + bfield(2, "s")
    doc = scip_index.parse(bfield(2, bfield(2, occurrence))).documents[0]
    assert (doc.occurrences[0].character, doc.occurrences[0].end_character) == (-1, 300)


@pytest.mark.parametrize(
    "data",
    [
        bfield(2, b"")[:-1] + b"\x05",  # a length past the end
        tag(2, 0) + b"\x80",  # a varint cut short
        tag(2, 3),  # a group (wire type 3), which scip.proto never uses
        bfield(2, bfield(2, packed(1, [1, 2]))),  # a range of two elements
        tag(9, 1) + b"\x00\x00",  # a fixed64 cut short
    ],
)
def test_malformed_bytes_raise_decode_error(data: bytes) -> None:
    with pytest.raises(scip_index.ScipDecodeError):
        scip_index.parse(data)


@pytest.mark.parametrize(
    ("encoding", "column", "expected"),
    [
        (scip_index.UNSPECIFIED, 12, 12),  # scip-python / scip-typescript: already UTF-16
        (scip_index.UTF16, 12, 12),
        (scip_index.UTF32, 11, 12),  # "é€😀" is 3 code points, 4 UTF-16 units
        (scip_index.UTF8, 5 + 2 + 3 + 4 + 3, 12),  # é 2 bytes, € 3, 😀 4
    ],
)
def test_columns_become_utf16(encoding: int, column: int, expected: int) -> None:
    line = 'x = "é€😀"; y = label(sq)'
    assert scip_index.utf16_column(line, column, encoding) == expected
    assert line[line.index("y =")] == "y"


def test_ascii_lines_keep_their_column_in_every_encoding() -> None:
    for encoding in (scip_index.UTF8, scip_index.UTF16, scip_index.UTF32):
        assert scip_index.utf16_column("def f(x): pass", 6, encoding) == 6
