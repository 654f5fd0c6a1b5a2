"""The read gate: the only place a file is read, in a worker; Documents answers from memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_backoff.proxy.actions import Read
from lsp_backoff.proxy.documents import Documents, Identifier, content_hash
from lsp_backoff.proxy.reads import NOTHING, ReadGate, read_file


def test_documents_never_read_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory only, by construction: a file on disk is unknown until the gate hands it in."""
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    uri = path.as_uri()

    def no_read(*args: object) -> None:
        raise AssertionError("a file was read outside the gate's worker")

    monkeypatch.setattr("builtins.open", no_read)
    docs = Documents()
    assert docs.text(uri) is None and docs.version(uri) is None and docs.line(uri, 0) is None
    assert docs.identifier_at(uri, 0, 0) == Identifier(0, 0, "")
    assert docs.open(uri, "x = 2\n") is False  # a file never read is not read now
    assert docs.text(uri) == "x = 2\n"


def test_the_gate_reads_each_file_once_at_a_time_and_runs_what_waited(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text("a = 1\n")
    uri = path.as_uri()
    docs = Documents()
    gate = ReadGate(docs)
    ran: list[str] = []
    gate.want(uri, lambda: ran.append("first"))
    gate.want(uri, lambda: ran.append("second"))
    gate.want("file:///other.py")
    assert gate.wanted() == [Read(uri), Read("file:///other.py")]
    assert gate.wanted() == []  # asked once
    gate.want(uri)  # still being read: not asked again
    assert gate.wanted() == []
    found = gate.read(uri)
    assert found.text == "a = 1\n" and found.version == content_hash("a = 1\n")
    for then in gate.loaded(uri, found):
        then()
    assert ran == ["first", "second"]
    assert docs.text(uri) == "a = 1\n" and docs.version(uri) == found.version
    gate.want(uri)  # read again later (say, after a watched-files change): asked again
    assert gate.wanted() == [Read(uri)]
    gate.clear()
    assert gate.wanted() == [] and gate.loaded(uri, NOTHING) == []


def test_the_hash_is_computed_by_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.py"
    path.write_text("a = 1\n")
    docs = Documents()
    gate = ReadGate(docs)
    found = gate.read(path.as_uri())
    monkeypatch.setattr("lsp_backoff.proxy.documents.content_hash", pytest.fail)
    gate.loaded(path.as_uri(), found)
    assert docs.version(path.as_uri()) == found.version  # no hashing on the loop


def test_read_with_percent_encoded_path(tmp_path: Path) -> None:
    folder = tmp_path / "dir with space#1"
    folder.mkdir()
    path = folder / "ñame.py"
    path.write_text("héllo = 1\n", encoding="utf-8")
    uri = path.as_uri()
    assert "%20" in uri and "%23" in uri and "%C3%B1" in uri
    assert read_file(uri) == "héllo = 1\n"
    assert read_file("file://localhost" + uri[len("file://") :]) == "héllo = 1\n"
    docs = Documents()
    docs.loaded(uri, read_file(uri))
    assert docs.identifier_at(uri, 0, 2) == Identifier(0, 0, "héllo")


def test_read_refusals_never_raise(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 11)
    exact = tmp_path / "exact.txt"
    exact.write_bytes(b"a" * 10)
    assert read_file(big.as_uri(), 10) is None
    assert read_file(exact.as_uri(), 10) == "a" * 10
    assert read_file(tmp_path.as_uri()) is None  # a directory
    assert read_file((tmp_path / "absent.py").as_uri()) is None
    assert read_file("untitled:Untitled-1") is None
    assert read_file("https://example.com/a.py") is None
    assert read_file("file://otherhost/etc/hosts") is None
    assert read_file("file:///a%00b") is None
    assert ReadGate(Documents(), max_file_bytes=10).read(big.as_uri()) == NOTHING


def test_read_decodes_with_replacement_and_strips_bom(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(b"\xef\xbb\xbfab\xffcd")
    assert read_file(path.as_uri()) == "ab\ufffdcd"


def test_disk_cache_is_bounded_lru(tmp_path: Path) -> None:
    paths = [tmp_path / f"f{i}.py" for i in range(3)]
    for p in paths:
        p.write_text("old")
    docs = Documents(disk_cache_size=2)
    for p in paths:
        docs.loaded(p.as_uri(), read_file(p.as_uri()))
    # f0 was evicted: to be read again; f1 and f2 are still served from the cache.
    assert docs.needs_read(paths[0].as_uri()) and docs.text(paths[0].as_uri()) is None
    assert docs.text(paths[2].as_uri()) == "old"
    docs.file_changed(paths[2].as_uri())
    assert docs.needs_read(paths[2].as_uri())


def test_disk_cache_size_zero_disables_caching(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_text("old")
    docs = Documents(disk_cache_size=0)
    docs.loaded(path.as_uri(), read_file(path.as_uri()))
    assert docs.text(path.as_uri()) is None
