"""Unit tests for proxy.documents: identifiers, position encodings, edits, disk reads."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

import lsp_backoff.proxy.documents as documents
from lsp_backoff.proxy.documents import Documents, Identifier, content_hash, symbol_key
from lsp_backoff.proxy.reads import read_file

URI = "file:///nowhere/doc.py"
# The non-ASCII line from the brief. Offsets below are counted by hand:
#   code points: h0 é1 l2 l3 o4 _5 =6 _7 "8 😀9 "10 ;11 _12 w13 ö14 r15 l16 d17 (end 18)
#   utf-16:      same up to 😀, which takes 9-10; then "11 ;12 _13 w14 ö15 r16 l17 d18 (end 19)
#   utf-8:       h0 é1-2 l3 l4 o5 _6 =7 _8 "9 😀10-13 "14 ;15 _16 w17 ö18-19 r20 l21 d22 (end 23)
LINE = 'héllo = "😀"; wörld'
# (encoding, start of wörld, end of wörld, end of héllo, start of the emoji, emoji width)
OFFSETS = [
    ("utf-16", 14, 19, 5, 9, 2),
    ("utf-8", 17, 23, 6, 10, 4),
    ("utf-32", 13, 18, 5, 9, 1),
]


def docs_with(text: str, encoding: str = "utf-16") -> Documents:
    docs = Documents(encoding=encoding)
    docs.open(URI, text)
    return docs


def rng(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


# -- keys and hashes ---------------------------------------------------------------------------


def test_symbol_key_format() -> None:
    assert symbol_key("file:///a.py", 3, 4, "foo") == "file:///a.py#3:4:foo"
    assert symbol_key("file:///a.py", 3, 4, "") == "file:///a.py#3:4"


def test_content_hash_is_blake2b_of_utf8_and_tolerates_lone_surrogates() -> None:
    expected = hashlib.blake2b("héllo".encode(), digest_size=8).hexdigest()
    assert content_hash("héllo") == expected
    assert len(expected) == 16
    assert content_hash("a\ud83d") != content_hash("a")


# -- identifiers -------------------------------------------------------------------------------


def test_every_position_inside_an_identifier_gives_the_same_key() -> None:
    docs = Documents()
    js = "file:///nowhere/doc.js"  # `$` belongs to names in JavaScript (proxy.identifiers)
    docs.open(js, "x = alpha_beta$2 + gamma\n")
    keys = {docs.symbol_at(js, 0, c)[0] for c in range(4, 17)}  # start .. right after
    assert keys == {f"{js}#0:4:alpha_beta$2"}
    neighbour, ident = docs.symbol_at(js, 0, 19)
    assert ident == Identifier(0, 19, "gamma")
    assert neighbour == f"{js}#0:19:gamma"


def test_position_right_after_identifier_and_between_identifiers() -> None:
    docs = docs_with("foo(bar)")
    assert docs.identifier_at(URI, 0, 3) == Identifier(0, 0, "foo")  # "(" follows: ends here
    assert docs.identifier_at(URI, 0, 4) == Identifier(0, 4, "bar")  # contains wins over ends
    assert docs.identifier_at(URI, 0, 7) == Identifier(0, 4, "bar")
    assert docs.identifier_at(URI, 0, 8) == Identifier(0, 8, "")  # after ")": none


def test_position_on_no_identifier_is_tracked_by_position() -> None:
    docs = docs_with("a  +  b")
    assert docs.identifier_at(URI, 0, 3) == Identifier(0, 3, "")
    assert docs.symbol_at(URI, 0, 3)[0] == f"{URI}#0:3"
    assert docs.symbol_at(URI, 0, 4)[0] == f"{URI}#0:4"


def test_positions_past_the_end() -> None:
    docs = docs_with("abc\nde\n")
    assert docs.identifier_at(URI, 1, 99) == Identifier(1, 0, "de")  # clamps to the line end
    assert docs.identifier_at(URI, 2, 0) == Identifier(2, 0, "")  # empty last line
    assert docs.identifier_at(URI, 3, 1) == Identifier(3, 1, "")  # line past the document
    assert docs.symbol_at(URI, 7, 2)[0] == f"{URI}#7:2"


def test_unknown_document_is_tracked_by_position() -> None:
    docs = Documents()
    assert docs.symbol_at("untitled:1", 0, 2) == ("untitled:1#0:2", Identifier(0, 2, ""))


@pytest.mark.parametrize(("encoding", "w_start", "w_end", "h_end", "emoji", "width"), OFFSETS)
def test_non_ascii_line_in_every_encoding(
    encoding: str, w_start: int, w_end: int, h_end: int, emoji: int, width: int
) -> None:
    docs = docs_with("\n" + LINE, encoding)
    # Asked in the session's units, answered in the graph's (UTF-16): one key per identifier.
    for c in range(h_end + 1):
        assert docs.identifier_at(URI, 1, c) == Identifier(1, 0, "héllo"), c
    for c in range(w_start, w_end + 1):
        assert docs.identifier_at(URI, 1, c) == Identifier(1, 14, "wörld"), c
    assert docs.identifier_at(URI, 1, w_end + 50) == Identifier(1, 14, "wörld")
    # The emoji is no identifier: a position on it is kept, in UTF-16 units (9-10 there); one
    # inside it in another unit snaps to its start (UTF-16 sessions are never converted).
    for c in range(emoji, emoji + width):
        kept = c if encoding == "utf-16" else 9
        assert docs.identifier_at(URI, 1, c) == Identifier(1, kept, ""), c
    assert docs.identifier_at(URI, 1, w_start - 1) == Identifier(1, 13, "")


@pytest.mark.parametrize(("encoding", "length"), [("utf-16", 4), ("utf-8", 6), ("utf-32", 3)])
def test_astral_character_inside_identifier(encoding: str, length: int) -> None:
    # 𠀀 (U+20000, a CJK letter): 2 UTF-16 units, 4 UTF-8 bytes, 1 code point.
    docs = docs_with("a𠀀b = 𠀀 + yy", encoding)
    for c in range(length + 1):  # includes mid-surrogate / mid-sequence offsets
        assert docs.identifier_at(URI, 0, c) == Identifier(0, 0, "a𠀀b"), c
    # a𠀀b is 4/6/3 units, " = " 3, 𠀀 2/4/1, " + " 3.
    yy = {"utf-16": 12, "utf-8": 16, "utf-32": 10}[encoding]
    assert docs.identifier_at(URI, 0, yy + 1) == Identifier(0, 12, "yy")  # keyed in UTF-16


def test_cjk_identifier() -> None:
    docs = docs_with("变量 = 值", "utf-8")
    assert docs.identifier_at(URI, 0, 4) == Identifier(0, 0, "变量")  # inside 量's 3 bytes
    assert docs.identifier_at(URI, 0, 9) == Identifier(0, 5, "值")  # byte 9, UTF-16 unit 5


def test_crlf_and_cr_line_ends() -> None:
    docs = docs_with("foo\r\nbar\rbaz\nqux\r\n")
    assert docs.identifier_at(URI, 0, 4) == Identifier(0, 0, "foo")  # clamps before the \r
    assert docs.identifier_at(URI, 0, 9) == Identifier(0, 0, "foo")
    assert docs.identifier_at(URI, 1, 1) == Identifier(1, 0, "bar")
    assert docs.identifier_at(URI, 2, 0) == Identifier(2, 0, "baz")
    assert docs.identifier_at(URI, 3, 3) == Identifier(3, 0, "qux")
    assert docs.identifier_at(URI, 4, 0) == Identifier(4, 0, "")


def test_only_lsp_line_ends_split_lines() -> None:
    # \f, \v and U+2028 end lines for str.splitlines but not for LSP.
    docs = docs_with("a\u2028b\fc\vd\r\r\ne")
    assert docs.identifier_at(URI, 0, 2) == Identifier(0, 2, "b")
    assert docs.identifier_at(URI, 0, 7) == Identifier(0, 6, "d")
    assert docs.identifier_at(URI, 1, 0) == Identifier(1, 0, "")
    assert docs.identifier_at(URI, 2, 0) == Identifier(2, 0, "e")
    docs.change(URI, [{"range": rng(1, 0, 2, 1), "text": "f"}])
    assert docs.text(URI) == "a\u2028b\fc\vd\rf"


def test_encoding_is_settable_and_unknown_values_fall_back_to_utf16() -> None:
    docs = docs_with(LINE)
    docs.encoding = "utf-8"
    assert docs.identifier_at(URI, 0, 17) == Identifier(0, 14, "wörld")  # byte 17: unit 14
    assert docs.identifier_at(URI, 0, 15) == Identifier(0, 12, "")  # byte 15: the ";"
    docs.encoding = "utf-7"
    assert docs.encoding == "utf-16"
    assert docs.identifier_at(URI, 0, 15) == Identifier(0, 14, "wörld")


# -- didChange ---------------------------------------------------------------------------------


def test_full_change_replaces_text() -> None:
    docs = docs_with("old")
    assert docs.change(URI, [{"text": "new text"}]) is True
    assert docs.text(URI) == "new text"
    assert docs.change(URI, [{"text": "new text"}]) is False


def test_incremental_changes_apply_in_order() -> None:
    docs = docs_with("def foo():\n    return 1\n")
    changes = [
        {"range": rng(0, 4, 0, 7), "text": "bar"},  # rename
        {"range": rng(1, 11, 1, 12), "text": "(\n        2\n    )"},  # multi-line insert
        {"range": rng(0, 10, 1, 4), "text": "  "},  # multi-line delete (joins lines)
    ]
    assert docs.change(URI, changes) is True
    assert docs.text(URI) == "def bar():  return (\n        2\n    )\n"
    assert docs.identifier_at(URI, 1, 8) == Identifier(1, 8, "2")


def test_incremental_change_in_utf8_and_utf16() -> None:
    docs = docs_with(LINE + "\n", "utf-8")
    assert docs.change(URI, [{"range": rng(0, 17, 0, 23), "text": "world"}]) is True
    assert docs.text(URI) == 'héllo = "😀"; world\n'
    docs.encoding = "utf-16"
    assert docs.change(URI, [{"range": rng(0, 9, 0, 11), "text": "x"}]) is True
    assert docs.text(URI) == 'héllo = "x"; world\n'


def test_incremental_change_across_crlf_and_insert_at_end() -> None:
    docs = docs_with("a\r\nb\r\n")
    docs.change(URI, [{"range": rng(0, 1, 1, 0), "text": ""}])  # removes the CRLF only
    assert docs.text(URI) == "ab\r\n"
    docs.change(URI, [{"range": rng(1, 0, 1, 0), "text": "tail"}])
    assert docs.text(URI) == "ab\r\ntail"


def test_change_ranges_clamp() -> None:
    docs = docs_with("abc\ndef")
    docs.change(URI, [{"range": rng(0, 99, 0, 99), "text": "!"}])  # past line end: line end
    assert docs.text(URI) == "abc!\ndef"
    docs.change(URI, [{"range": rng(1, 1, 9, 0), "text": "X"}])  # past document: document end
    assert docs.text(URI) == "abc!\ndX"
    docs.change(URI, [{"range": rng(0, 3, 0, 1), "text": "-"}])  # reversed: taken as ordered
    assert docs.text(URI) == "a-!\ndX"


def test_change_that_cancels_out_is_no_change() -> None:
    docs = docs_with("abc")
    changes = [{"range": rng(0, 1, 0, 1), "text": "zz"}, {"range": rng(0, 1, 0, 3), "text": ""}]
    assert docs.change(URI, changes) is False
    assert docs.text(URI) == "abc"


def test_change_for_unopened_document_assumes_changed() -> None:
    docs = Documents()
    assert docs.change("file:///missing/x.py", [{"text": "x"}]) is True
    assert docs.text("file:///missing/x.py") is None


def test_malformed_change_forgets_the_open_text() -> None:
    docs = docs_with("abc")
    assert docs.change(URI, [{"range": {"start": {}}, "text": "x"}]) is True
    assert docs.text(URI) is None


# -- open / save / close -----------------------------------------------------------------------


def test_open_save_close_semantics_without_disk() -> None:
    docs = Documents()
    assert docs.open("untitled:Untitled-1", "one") is True  # nothing can be known: changed
    assert docs.open(URI, "one") is False  # a file never read is not read now (see below)
    assert docs.open(URI, "one") is False  # re-open, same text
    assert docs.save(URI, None) is False
    assert docs.save(URI, "one") is False
    assert docs.save(URI, "two") is True
    assert docs.text(URI) == "two"
    docs.close(URI)
    assert docs.text(URI) is None


def test_open_compares_with_disk(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    docs = Documents()
    docs.loaded(path.as_uri(), read_file(path.as_uri()))  # read (by the gate) before
    assert docs.open(path.as_uri(), "x = 1\n") is False
    docs.change(path.as_uri(), [{"text": "x = 2\n"}])
    docs.close(path.as_uri())  # closed without saving: disk text serves again
    assert docs.text(path.as_uri()) == "x = 1\n"
    assert docs.open(path.as_uri(), "x = 3\n") is True


def test_save_drops_disk_cache_for_unopened_document(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("old")
    docs = Documents()
    uri = path.as_uri()
    docs.loaded(uri, read_file(uri))
    assert docs.text(uri) == "old"
    path.write_text("new")
    assert docs.save(uri, None) is True  # the disk changed: the cached text is dropped
    assert docs.text(uri) is None and docs.needs_read(uri)


# -- disk (read by the gate: see test_reads.py) ------------------------------------------


def test_open_text_wins_over_disk(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_text("disk")
    docs = Documents()
    docs.open(path.as_uri(), "editor")
    assert docs.text(path.as_uri()) == "editor"
    docs.file_changed(path.as_uri())
    assert docs.text(path.as_uri()) == "editor"


# -- versions ----------------------------------------------------------------------------------


def test_version_changes_exactly_when_text_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting(text: str) -> str:
        calls.append(text)
        return content_hash(text)

    monkeypatch.setattr(documents, "content_hash", counting)
    docs = docs_with("abc")
    v1 = docs.version(URI)
    assert v1 == content_hash("abc")
    assert docs.version(URI) == v1
    assert calls == ["abc"]  # cached
    docs.change(URI, [{"range": rng(0, 0, 0, 0), "text": ""}])
    assert docs.version(URI) == v1
    docs.change(URI, [{"range": rng(0, 3, 0, 3), "text": "d"}])
    v2 = docs.version(URI)
    assert v2 == content_hash("abcd") != v1
    docs.change(URI, [{"text": "abc"}])
    assert docs.version(URI) == v1
    assert Documents().version(URI) is None


def test_needs_read_only_for_file_uris_that_are_neither_open_nor_cached(tmp_path: Path) -> None:
    now = [100.0]
    docs = Documents(clock=lambda: now[0])
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    uri = path.as_uri()
    assert docs.needs_read(uri)
    assert not docs.needs_read("untitled:Untitled-1")  # nothing on disk to read
    docs.loaded(uri, read_file(uri))
    assert not docs.needs_read(uri) and docs.text(uri) == "x = 1\n"
    docs.file_changed(uri)
    assert docs.needs_read(uri)
    docs.open(uri, "y = 2\n")
    assert not docs.needs_read(uri)


def test_a_cached_text_keys_nothing_asked_after_its_last_check(tmp_path: Path) -> None:
    """Issue 28: each question makes every cached disk text due for a check of its file."""
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    uri = path.as_uri()
    docs = Documents()
    docs.loaded(uri, read_file(uri))
    assert not docs.needs_read(uri)  # just read: good for what was asked before
    docs.distrust_disk()
    assert docs.needs_read(uri) and docs.text(uri) == "x = 1\n"  # still in memory
    docs.checked(uri)
    assert not docs.needs_read(uri)
    docs.distrust_disk()
    docs.open(uri, "x = 1\n")
    assert not docs.needs_read(uri)  # the open text is the content: no check
    docs.close(uri)
    assert docs.needs_read(uri)  # the disk serves again, once checked
    docs.loaded(uri, None)  # found gone
    assert docs.text(uri) is None and not docs.needs_read(uri)


def test_a_file_found_missing_is_believed_missing_briefly(tmp_path: Path) -> None:
    now = [100.0]
    docs = Documents(clock=lambda: now[0])
    path = tmp_path / "later.py"
    uri = path.as_uri()
    docs.loaded(uri, read_file(uri))  # not there
    path.write_text("z = 3\n")
    assert not docs.needs_read(uri) and docs.text(uri) is None  # no read on the loop
    now[0] += Documents.MISSING_SECONDS + 0.1
    assert docs.needs_read(uri) and docs.text(uri) is None  # created since: to be read
    docs.loaded("file:///gone.py", None)
    docs.file_changed("file:///gone.py")  # a watched-files event forgets it at once
    assert docs.needs_read("file:///gone.py")
