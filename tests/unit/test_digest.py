"""tracker/digest.py: the content hash of a text from its pieces (issue 22).

The value a chunked Text computes from its chunks must be the value of the same text read
fresh from disk (one piece), however the text was cut or edited: checked against the
definition computed the obvious way (one big integer), for any cut, and against random edit
histories (also tests/unit/test_text.py and tests/fuzz/test_documents_fuzz.py, which compare
``Documents.version`` with ``content_hash`` of the reference model after every history).
"""

from __future__ import annotations

import hashlib
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

import lsp_backoff.proxy.text as text_module
from lsp_backoff.proxy.text import Text
from lsp_backoff.tracker import digest
from lsp_backoff.tracker.digest import combined, content_hash, finish, part

CHARS = st.sampled_from(["a", "\n", "\r\n", "\x00", "é", "中", "😀", "\ud800", "_"])
TEXTS = st.lists(CHARS, max_size=80).map("".join)


def obvious(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    residue = int.from_bytes(data, "big") % (1_073_741_789 * 1_073_741_783)
    return hashlib.blake2b(f"{residue}:{len(data)}".encode(), digest_size=10).hexdigest()


@given(TEXTS, st.lists(st.integers(0, 80), max_size=6))
def test_the_hash_of_any_cut_is_the_hash_of_the_whole(text: str, cuts: list[int]) -> None:
    at = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *at], [*at, len(text)], strict=True)]
    assert finish(combined(part(p) for p in pieces)) == content_hash(text) == obvious(text)


@given(TEXTS)
def test_a_long_text_hashed_in_slices_is_hashed_as_one(text: str) -> None:
    with mock.patch.object(digest, "_SLICE", 3):
        assert content_hash(text) == obvious(text)


@given(
    TEXTS,
    st.lists(st.tuples(st.integers(0, 100), st.integers(0, 5), TEXTS), min_size=1, max_size=10),
)
def test_an_edited_text_hashes_as_the_same_text_read_fresh(
    initial: str, edits: list[tuple[int, int, str]]
) -> None:
    """Whatever the edit history (tiny chunks: boundaries everywhere), the version of the
    edited Text is that of a new Text of the same characters, as read from disk."""
    with (
        mock.patch.object(text_module, "_TARGET", 2),
        mock.patch.object(text_module, "_MAX", 4),
    ):
        doc = Text(initial)
        doc.version()  # a version kept on the first text must not leak into the next ones
        for at, length, new in edits:
            start = {"line": 0, "character": at}
            end = {"line": 0, "character": at + length}
            found = doc.replaced(start, end, new, "utf-32")
            if found is not None:
                doc = found[0]
            expected = doc.text  # positions against a model: test_text.py
            assert doc.version() == Text(expected).version() == obvious(expected)


def test_after_a_keystroke_only_the_chunk_it_touched_is_read() -> None:
    big = Text("".join(f"line {i} = value_{i}\n" for i in range(100_000)))  # ~2.2 MB
    at = {"line": 50_000, "character": 3}
    first = big.replaced(at, at, "x", "utf-16")
    assert first is not None
    first[0].version()
    read: list[int] = []
    real = digest.part

    def counting(text: str) -> digest.Part:
        read.append(len(text))
        return real(text)

    with mock.patch.object(digest, "part", counting):
        second = first[0].replaced(at, at, "y", "utf-16")
        assert second is not None
        version = second[0].version()
    assert len(read) == 1 and read[0] <= text_module._MAX
    assert version == content_hash(second[0].text)
