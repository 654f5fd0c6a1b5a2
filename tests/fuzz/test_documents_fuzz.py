"""Document sync under random incremental edits, against a reference model, in every encoding.

Only the public Documents API is used (open, change, text, line, version), so the model holds
whatever the internals become. The model is written from the spec, not from the code: lines end
at \\n, \\r\\n or \\r; a character offset counts code units of the negotiated encoding; an offset
inside a character means that character's start; past the line end means the line end; a line
past the document means its end; a negative line its start; a reversed range is taken in order.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lsp_backoff.proxy.documents import Documents, content_hash

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
