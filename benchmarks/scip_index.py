"""A reader for the few fields of a SCIP index (`index.scip`) that bench_scip.py compares.

SCIP is a protobuf message, `Index`, defined by `scip.proto` in github.com/sourcegraph/scip
(read at commit e1e47bf, 2026-05-01). This module decodes the protobuf wire format itself
(varints and length-delimited fields, https://protobuf.dev/programming-guides/encoding/) for
the fields below and skips every other field by its wire type, so the benchmark needs no
`protobuf` package, no generated code and no `protoc`: ~100 lines against a dependency and a
build step for five messages. Field numbers, from scip.proto:

    Index            1 metadata (Metadata), 2 documents (repeated Document)
    Metadata         2 tool_info (ToolInfo), 3 project_root, 4 text_document_encoding
    ToolInfo         1 name, 2 version
    Document         1 relative_path, 2 occurrences (repeated Occurrence),
                     3 symbols (repeated SymbolInformation), 4 language, 6 position_encoding
    Occurrence       1 range (repeated int32, packed), 2 symbol, 3 symbol_roles
    SymbolInformation 1 symbol, 5 kind, 6 display_name

`range` is `[startLine, startCharacter, endLine, endCharacter]` or, on one line,
`[startLine, startCharacter, endCharacter]`, 0-based; characters count in the document's
`position_encoding` (1 UTF-8 code units, 2 UTF-16, 3 UTF-32; 0 unspecified).
It does not validate the message beyond what decoding needs, and it reads the whole file into
memory (pip's index is ~40 MB).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# SymbolRole bits (scip.proto `enum SymbolRole`).
DEFINITION = 0x1
IMPORT = 0x2

# Document.position_encoding (scip.proto `enum PositionEncoding`).
UNSPECIFIED, UTF8, UTF16, UTF32 = 0, 1, 2, 3


class ScipDecodeError(ValueError):
    """The bytes are not a protobuf message of the expected shape."""


@dataclass(frozen=True)
class Occurrence:
    line: int
    character: int
    end_line: int
    end_character: int
    symbol: str
    roles: int

    @property
    def is_definition(self) -> bool:
        return bool(self.roles & DEFINITION)


@dataclass
class Document:
    path: str
    language: str = ""
    position_encoding: int = UNSPECIFIED
    occurrences: list[Occurrence] = field(default_factory=list)
    symbols: dict[str, tuple[int, str]] = field(default_factory=dict)  # symbol -> (kind, name)


@dataclass
class Index:
    tool: str = ""
    version: str = ""
    project_root: str = ""
    documents: list[Document] = field(default_factory=list)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ScipDecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ScipDecodeError("varint longer than 10 bytes")


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of one message: an int for varints, bytes otherwise."""
    pos, end = 0, len(data)
    while pos < end:
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > end:
                raise ScipDecodeError(f"field {number}: {size} bytes past the end")
            yield number, wire, data[pos : pos + size]
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:  # 3 and 4 are the deprecated groups; nothing in scip.proto uses them
            raise ScipDecodeError(f"field {number}: unsupported wire type {wire}")
        if pos > end:
            raise ScipDecodeError(f"field {number}: fixed-size value past the end")


def _packed(value: int | bytes) -> list[int]:
    if isinstance(value, int):  # an unpacked repeated field: one element per tag
        return [value]
    out, pos = [], 0
    while pos < len(value):
        number, pos = _varint(value, pos)
        out.append(number - (1 << 64) if number >= 1 << 63 else number)  # int32 < 0: 10 bytes
    return out


def _text(value: int | bytes) -> str:
    if isinstance(value, int):
        raise ScipDecodeError("expected a length-delimited field")
    return value.decode("utf-8", errors="replace")


def _occurrence(data: bytes) -> Occurrence:
    span: list[int] = []
    symbol, roles = "", 0
    for number, _, value in fields(data):
        if number == 1:
            span += _packed(value)
        elif number == 2:
            symbol = _text(value)
        elif number == 3 and isinstance(value, int):
            roles = value
    if len(span) == 3:
        span = [span[0], span[1], span[0], span[2]]
    if len(span) != 4:
        raise ScipDecodeError(f"occurrence of {symbol!r}: range of {len(span)} elements")
    return Occurrence(span[0], span[1], span[2], span[3], symbol, roles)


def _symbol_information(data: bytes) -> tuple[str, int, str]:
    symbol, kind, name = "", 0, ""
    for number, _, value in fields(data):
        if number == 1:
            symbol = _text(value)
        elif number == 5 and isinstance(value, int):
            kind = value
        elif number == 6:
            name = _text(value)
    return symbol, kind, name


def _document(data: bytes) -> Document:
    doc = Document("")
    for number, _, value in fields(data):
        if number == 1:
            doc.path = _text(value)
        elif number == 2 and isinstance(value, bytes):
            doc.occurrences.append(_occurrence(value))
        elif number == 3 and isinstance(value, bytes):
            symbol, kind, name = _symbol_information(value)
            doc.symbols[symbol] = (kind, name)
        elif number == 4:
            doc.language = _text(value)
        elif number == 6 and isinstance(value, int):
            doc.position_encoding = value
    return doc


def parse(data: bytes) -> Index:
    index = Index()
    for number, _, value in fields(data):
        if number == 1 and isinstance(value, bytes):
            for m_number, _, m_value in fields(value):
                if m_number == 2 and isinstance(m_value, bytes):
                    for t_number, _, t_value in fields(m_value):
                        if t_number == 1:
                            index.tool = _text(t_value)
                        elif t_number == 2:
                            index.version = _text(t_value)
                elif m_number == 3:
                    index.project_root = _text(m_value)
        elif number == 2 and isinstance(value, bytes):
            index.documents.append(_document(value))
    return index


def read(path: Path) -> Index:
    return parse(path.read_bytes())


def utf16_column(line_text: str, column: int, encoding: int) -> int:
    """A column counted in `encoding` units on `line_text`, as UTF-16 code units (LSP's default).

    UNSPECIFIED is taken as UTF-16: scip-python and scip-typescript are JavaScript programs,
    whose strings count UTF-16 code units, and both leave the field unset (checked in
    bench_scip.py's output, which counts non-ASCII lines whose columns agree).
    """
    if encoding in (UNSPECIFIED, UTF16) or line_text.isascii():
        return column
    if encoding == UTF32:
        prefix = line_text[:column]
    elif encoding == UTF8:
        prefix = line_text.encode("utf-8")[:column].decode("utf-8", errors="ignore")
    else:
        raise ScipDecodeError(f"unknown position encoding {encoding}")
    return len(prefix.encode("utf-16-le")) // 2
