"""Document sync under random incremental edits, against a reference model, in every encoding.

Only the public Documents API is used (open, change, text, line, version), so the model holds
whatever the internals become. The model is written from the spec, not from the code: lines end
at \\n, \\r\\n or \\r; a character offset counts code units of the negotiated encoding; an offset
inside a character means that character's start; past the line end means the line end; a line
past the document means its end; a negative line its start; a reversed range is taken in order.
"""

from __future__ import annotations

import itertools
import re
import unittest.mock
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import lsp_backoff.proxy.text as text_module
from lsp_backoff.proxy.documents import Documents, content_hash
from lsp_backoff.proxy.identifiers import rules_for, span_at
from lsp_backoff.proxy.mentions import IDENTIFIER, mentioned
from lsp_backoff.tracker.positions import convert

URI = "file:///fuzz/doc.py"
# Line ends of every kind, multi-unit characters in every encoding, and lone surrogates.
PIECES = [
    "a",
    "z",
    "_",
    " ",
    "\n",
    "\r",
    "\r\n",
    "é",
    "中",
    "😀",
    "\U0001d54f",
    "\u2028",
    "\ud800",
    "\t",
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def units(ch: str, encoding: str) -> int:
    if encoding == "utf-32":
        return 1
    data = ch.encode("utf-16-le" if encoding == "utf-16" else "utf-8", "surrogatepass")
    return len(data) // 2 if encoding == "utf-16" else len(data)


def model_offset(text: str, line: int, character: int, encoding: str) -> int:
    if line < 0:
        return 0
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = re.compile(r"\r\n|\r|\n").search(text, start)
    stop = end.start() if end else len(text)
    seen = 0
    for index in range(start, stop):
        width = units(text[index], encoding)
        if seen + width > character:
            return index
        seen += width
    return stop


def model_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


EDIT = st.one_of(
    st.tuples(
        st.integers(-1, 8), st.integers(-1, 12), st.integers(-1, 8), st.integers(-1, 12), TEXT
    ),
    st.tuples(st.just(None), st.just(0), st.just(0), st.just(0), TEXT),  # a full replacement
)


def change_of(edit: tuple[Any, ...]) -> dict[str, Any]:
    l1, c1, l2, c2, text = edit
    if l1 is None:
        return {"text": text}
    rng = {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}
    return {"range": rng, "text": text}


def apply(text: str, edit: tuple[Any, ...], encoding: str) -> str:
    l1, c1, l2, c2, new = edit
    if l1 is None:
        return new
    a, b = model_offset(text, l1, c1, encoding), model_offset(text, l2, c2, encoding)
    a, b = min(a, b), max(a, b)
    return text[:a] + new + text[b:]


@given(
    st.sampled_from(["utf-8", "utf-16", "utf-32"]),
    TEXT,
    st.lists(st.lists(EDIT, min_size=1, max_size=4), max_size=12),
)
def test_incremental_edits_match_the_model(
    encoding: str, initial: str, batches: list[list[tuple[Any, ...]]]
) -> None:
    docs = Documents(encoding=encoding)
    docs.open(URI, initial)
    model = initial
    for batch in batches:  # one didChange per batch, its changes applied in order
        before = model
        for edit in batch:
            model = apply(model, edit, encoding)
        changed = docs.change(URI, [change_of(edit) for edit in batch])
        assert docs.text(URI) == model, (encoding, before, batch)
        assert changed == (model != before)
    lines = model_lines(model)
    for n, expected in enumerate(lines):
        assert docs.line(URI, n) == expected
    assert docs.line(URI, len(lines)) is None
    assert docs.version(URI) == content_hash(model)


# -- very long lines (issue 30) ------------------------------------------------------------------
# A line longer than a chunk is made of pieces: edits, line numbers, positions and names on it
# must come out as on the whole line. Chunk sizes are drawn too: tiny ones put a piece boundary
# (and a "\r" | "\n" pair, an astral character, a word) under almost every edit; a line of up
# to ~9,000 characters (a random stretch repeated) spans hundreds of them. (The real size on
# megabyte lines: tests/unit/test_text.py.)
WORDY = [*PIECES, "name_1", "ab", "(", ".", "\r\n"]
STRETCH = st.lists(st.sampled_from(WORDY), min_size=1, max_size=30).map("".join)
LONG_TEXT = st.tuples(STRETCH, st.integers(1, 300), TEXT).map(lambda t: t[0] * t[1] + t[2])
FAR = st.one_of(st.integers(-1, 40), st.integers(-1, 12_000))  # near: at chunk ends
LONG_EDIT = st.one_of(
    st.tuples(st.integers(-1, 3), FAR, st.integers(-1, 3), FAR, TEXT),
    st.tuples(st.integers(-1, 3), FAR, st.just(None), st.integers(0, 3), TEXT),  # short range
)


def long_change(text: str, edit: tuple[Any, ...], encoding: str) -> tuple[Any, ...]:
    """A short-range edit (end None) ends a few code units after its start."""
    l1, c1, l2, c2, new = edit
    return (l1, c1, l1, c1 + c2, new) if l2 is None else edit


def model_identifier(text: str, line: int, character: int, encoding: str) -> tuple[int, str]:
    """(start, name) of the identifier at a position, from the whole line; the start in the
    graph's unit (UTF-16, issue 27), as is a position tracked without a name."""
    lines = model_lines(text)
    whole = lines[line]
    idx = model_offset(text, line, character, encoding) - model_offset(text, line, 0, encoding)
    span = span_at(whole, idx, rules_for("python", URI))
    if span is None:
        return convert(whole, character, encoding, "utf-16"), ""
    return sum(units(ch, "utf-16") for ch in whole[: span[0]]), whole[span[0] : span[1]]


@given(
    st.sampled_from(["utf-8", "utf-16", "utf-32"]),
    st.sampled_from([2, 5, 16, 64]),
    LONG_TEXT,
    st.lists(st.lists(LONG_EDIT, min_size=1, max_size=3), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 3), FAR), max_size=6),
)
def test_edits_on_very_long_lines_match_the_model(
    encoding: str,
    target: int,
    initial: str,
    batches: list[list[tuple[Any, ...]]],
    probes: list[tuple[int, int]],
) -> None:
    with (
        unittest.mock.patch.object(text_module, "_TARGET", target),
        unittest.mock.patch.object(text_module, "_MAX", 2 * target),
    ):
        docs = Documents(encoding=encoding)
        docs.open(URI, initial)
        docs.note_language(URI, "python")
        model = initial
        for batch in batches:
            before = model
            edits = []
            for edit in batch:
                edit = long_change(model, edit, encoding)
                edits.append(edit)
                model = apply(model, edit, encoding)
            changed = docs.change(URI, [change_of(edit) for edit in edits])
            assert changed == (model != before)
            assert docs.text(URI) == model
            doc = docs.document(URI)
            assert doc is not None
            chunks = [c.text for c in doc._chunks]
            # At most _MAX, and one more for the "\n" of a "\r\n" (never cut in two).
            assert all(len(c) <= 2 * target + 1 for c in chunks) or len(chunks) == 1
            for left, right in itertools.pairwise(chunks):
                assert not (left.endswith("\r") and right.startswith("\n"))
        lines = model_lines(model)
        for n, expected in enumerate(lines):
            assert docs.line(URI, n) == expected
        assert docs.line(URI, len(lines)) is None
        for line, character in probes:
            if line < len(lines):
                ident = docs.identifier_at(URI, line, character)
                assert (ident.character, ident.name) == model_identifier(
                    model, line, character, encoding
                ), (line, character)
        assert docs.version(URI) == content_hash(model)
        # The name rule's identifiers, found chunk by chunk, are the whole text's: no chunk
        # boundary cuts a word (but inside a run of word characters longer than a chunk).
        if max(map(len, re.findall(r"\w+", model)), default=0) <= target:
            assert mentioned(docs.document(URI)) == frozenset(IDENTIFIER.findall(model))
