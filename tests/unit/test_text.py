"""proxy.text against a reference model: random edits in every position encoding, tiny chunks.

The reference is the simplest correct thing — the whole text as one string, rebuilt per edit,
offsets counted from scratch (what documents.py did before chunks) — and the chunked Text must
agree with it on the text, every line, "changed or not" and the content hash.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lsp_backoff.proxy.text as text_module
from lsp_backoff.proxy.documents import Documents, content_hash
from lsp_backoff.proxy.mentions import mentioned
from lsp_backoff.proxy.text import Text

URI = "file:///nowhere/doc.py"
_EOL = re.compile(r"\r\n|\r|\n")
# Line ends (all three), separators that are not line ends for LSP, multi-unit characters.
ALPHABET = ["a", "b", " ", "\n", "\r", "\r\n", "é", "😀", "变", "\u2028", "\f"]


# -- the reference model ----------------------------------------------------------------------


def units(ch: str, encoding: str) -> int:
    if encoding == "utf-16":
        return len(ch.encode("utf-16-le", "surrogatepass")) // 2
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    return 1


def ref_lines(text: str) -> list[tuple[int, int]]:
    """(start, end before the terminator) of every line."""
    spans, start = [], 0
    for m in _EOL.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def ref_offset(text: str, position: dict[str, int], encoding: str) -> int:
    line, character = position["line"], position["character"]
    spans = ref_lines(text)
    if line < 0:
        return 0
    if line >= len(spans):
        return len(text)
    start, end = spans[line]
    used = 0
    for i in range(start, end):
        used += units(text[i], encoding)
        if used > character:
            return i
    return end


def ref_apply(text: str, changes: list[dict[str, Any]], encoding: str) -> str:
    for change in changes:
        if "range" not in change:
            text = change["text"]
            continue
        a = ref_offset(text, change["range"]["start"], encoding)
        b = ref_offset(text, change["range"]["end"], encoding)
        a, b = min(a, b), max(a, b)
        text = text[:a] + change["text"] + text[b:]
    return text


# -- strategies -------------------------------------------------------------------------------

texts = st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join)
positions = st.fixed_dictionaries({"line": st.integers(-1, 14), "character": st.integers(-1, 12)})
incremental = st.fixed_dictionaries(
    {"range": st.fixed_dictionaries({"start": positions, "end": positions}), "text": texts}
)
# Mostly single incremental changes (typing); sometimes batches and whole-text changes.
batches = st.lists(
    st.one_of(incremental, incremental, incremental, st.fixed_dictionaries({"text": texts})),
    min_size=1,
    max_size=3,
)


def check_same(docs: Documents, expected: str) -> None:
    assert docs.text(URI) == expected
    spans = ref_lines(expected)
    for n, (start, end) in enumerate(spans):
        assert docs.line(URI, n) == expected[start:end], n
    assert docs.line(URI, len(spans)) is None
    doc = docs._open[URI]
    chunks = [c.text for c in doc._chunks]
    for chunk, after in itertools.pairwise(chunks):
        # Never empty, and a "\r\n" never split between two chunks.
        assert chunk and after and not (chunk.endswith("\r") and after[0] == "\n")
    assert [c.breaks for c in doc._chunks] == [len(ref_lines(c)) - 1 for c in chunks]


@settings(max_examples=300, deadline=None)
@given(
    initial=texts,
    edits=st.lists(batches, min_size=1, max_size=12),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-32"]),
    target=st.sampled_from([1, 2, 4, 64]),
)
def test_random_edits_match_the_reference(
    initial: str, edits: list[list[dict[str, Any]]], encoding: str, target: int
) -> None:
    # Tiny chunks put chunk boundaries (and "\r" | "\n" at them) under almost every edit.
    with (
        mock.patch.object(text_module, "_TARGET", target),
        mock.patch.object(text_module, "_MAX", 2 * target),
    ):
        docs = Documents(encoding=encoding)
        docs.open(URI, initial)
        expected = initial
        for changes in edits:
            before = expected
            expected = ref_apply(expected, changes, encoding)
            assert docs.change(URI, changes) is (expected != before)
            check_same(docs, expected)
        assert docs.version(URI) == content_hash(expected)


def test_edits_never_hash_and_the_hash_is_kept_until_the_next_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[str] = []

    real = Text.version

    def counting(self: Text) -> str:  # counts the hashes texts compute, not the kept ones
        known = self.known_version
        version = real(self)
        if known is None:
            hashed.append(version)
        return version

    monkeypatch.setattr(Text, "version", counting)
    docs = Documents()
    docs.open(URI, "x = 1\n" * 10_000)
    for i in range(50):
        docs.change(URI, [{"range": rng(i, 0, i, 0), "text": "y"}])
    assert hashed == [] and docs.known_version(URI) is None
    version = docs.version(URI)
    assert docs.version(URI) == docs.known_version(URI) == version
    assert len(hashed) == 1
    docs.change(URI, [{"range": rng(0, 0, 0, 1), "text": "y"}])  # the same character: no change
    assert docs.known_version(URI) == version and len(hashed) == 1


def test_version_later_is_the_text_as_it_was_asked_about() -> None:
    docs = Documents()
    docs.open(URI, "abc\n" * 5000)
    later = docs.version_later(URI)
    docs.change(URI, [{"range": rng(10, 0, 10, 0), "text": "z"}])
    assert later() == content_hash("abc\n" * 5000) != docs.version(URI)
    assert docs.version_later("untitled:none")() is None


def test_an_edit_shares_every_chunk_it_does_not_touch() -> None:
    """What makes an edit cost what the edit costs: the new text reuses the old chunks
    (the same objects) except the one edited."""
    big = Text("".join(f"line {i} = value_{i}\n" for i in range(100_000)))  # ~2.2 MB
    first, _, _ = big.replaced(at(50_000, 3), at(50_000, 3), "x", "utf-16") or fail()
    second, _, _ = first.replaced(at(70_000, 0), at(70_000, 0), "y", "utf-16") or fail()
    old, new = first._chunks, second._chunks
    assert len(old) == len(new) > 200
    assert sum(a is not b for a, b in zip(old, new, strict=True)) == 1
    assert second._firsts is first._firsts  # no line added or removed: line numbers reused
    assert second.line(70_000) == "yline 70000 = value_70000"
    assert second.line(50_000) == "linxe 50000 = value_50000"


def rng(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def at(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def fail() -> Any:
    raise AssertionError("the edit changed nothing")


# -- long lines (issue 30) --------------------------------------------------------------------


def minified(n: int) -> str:
    """One line of minified-looking JavaScript, with a multi-unit character now and then."""
    return "".join(f"var a{i}=f(b{i},'{'😀' if i % 97 == 0 else 'é'}');" for i in range(n))


def test_a_long_line_is_cut_into_pieces_and_a_keystroke_touches_one() -> None:
    line = minified(120_000)  # ~2.6 MB on one line
    big = Text(line)
    middle = len(line) // 2
    first, _, _ = big.replaced(at(0, middle), at(0, middle), "x", "utf-32") or fail()
    second, _, _ = first.replaced(at(0, middle + 1), at(0, middle + 1), "y", "utf-32") or fail()
    old, new = first._chunks, second._chunks
    assert len(old) == len(new) > 200
    assert max(len(c.text) for c in new) <= text_module._MAX
    assert sum(a is not b for a, b in zip(old, new, strict=True)) == 1
    assert second.line(0) == line[:middle] + "xy" + line[middle:]
    assert second.line(1) is None


def test_positions_on_a_long_line_match_the_reference_in_every_encoding() -> None:
    """Real chunk sizes: edits here and there on a 200,000-character line with astral
    characters (two UTF-16 units, four UTF-8 bytes) and "\\r\\n" line ends around it."""
    rnd = random.Random(30)
    initial = "head\r\n" + minified(10_000) + "\r\ntail\r\n"
    for encoding in ("utf-8", "utf-16", "utf-32"):
        docs = Documents(encoding=encoding)
        docs.open(URI, initial)
        expected = initial
        for _ in range(12):
            c1 = rnd.randrange(0, 260_000)
            c2 = c1 + rnd.choice([0, 0, 1, 2, 5, 9000])
            new = rnd.choice(["", "z", "😀", "\r", "\n", "\r\n", "q(1)"])
            changes = [{"range": rng(1, c1, 1, c2), "text": new}]
            expected = ref_apply(expected, changes, encoding)
            docs.change(URI, changes)
            assert docs.text(URI) == expected
        spans = ref_lines(expected)
        assert [docs.line(URI, n) for n in range(len(spans))] == [expected[a:b] for a, b in spans]
        assert docs.version(URI) == content_hash(expected)


def test_a_deletion_that_joins_two_words_across_pieces_merges_their_chunks() -> None:
    """A chunk boundary never cuts an identifier (the name rule finds names per chunk)."""
    text = Text._of([text_module._Chunk("ab"), text_module._Chunk("(cd")], None, None)
    after, _, _ = text.replaced(at(0, 2), at(0, 3), "", "utf-16") or fail()  # the "("
    assert [c.text for c in after._chunks] == ["abcd"]
    assert mentioned(after) == {"abcd"}
    typed, _, _ = text.replaced(at(0, 3), at(0, 3), "x", "utf-16") or fail()
    assert mentioned(typed) == {"ab", "xcd"}
    joined, _, _ = text.replaced(at(0, 2), at(0, 2), "x", "utf-16") or fail()  # "abx" | "(cd"
    assert mentioned(joined) == {"abx", "cd"}


def test_the_identifier_at_a_position_on_a_long_line_is_found_around_it() -> None:
    line = minified(120_000)
    docs = Documents(encoding="utf-16")
    docs.open(URI, line)
    docs.change(URI, [{"range": rng(0, 10, 0, 10), "text": " "}])  # cut into pieces
    target = line.index("a60000=") + 1  # code points; the 😀 before it are 2 UTF-16 units each
    units_before = len(line[:target].encode("utf-16-le")) // 2 + 1  # + the space typed
    ident = docs.identifier_at(URI, 0, units_before + 2)
    assert (ident.name, ident.character) == ("a60000", units_before - 1)
