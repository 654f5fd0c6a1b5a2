"""--open-files: at most K documents open per server, every question asked with its document
open, didOpen versions that increase — read from the test server's own record of its
didOpen/didClose notifications and requests (servers/fails_on_bad.py --events)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from enrich_helpers import Enrich, make_enrich, summary

from lsp_backoff.proxy.enrich.window import DEFAULT_OPEN_FILES, auto_window

FILES = 7
FAST = ("--backoff-base", "0.2", "--max-retries", "1", "--interval", "0.1")


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    enrich = make_enrich(tmp_path)
    for n in range(FILES):
        # Different sizes: the window takes the documents with the most work first.
        body = "".join(f"def good_{n}_{i}():\n    pass\n\n" for i in range(n + 1))
        (enrich.ws / f"m{n}.py").write_text(body + f"\ndef bad_{n}():\n    pass\n")
    return enrich


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def by_server(path: Path) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in events(path):
        found[entry["pid"]].append(entry)
    return found


def check_window(log: list[dict[str, Any]], window: int) -> dict[str, list[int]]:
    """Replays one server's record; returns the didOpen versions per document."""
    open_now: set[str] = set()
    versions: dict[str, list[int]] = defaultdict(list)
    settled = False
    for entry in log:
        uri, kind = entry["uri"], entry["event"]
        if kind == "open":
            assert uri not in open_now, f"{uri} opened twice without a close"
            open_now.add(uri)
            versions[uri].append(entry["version"])
            assert len(open_now) <= window, (len(open_now), sorted(open_now))
        elif kind == "close":
            assert uri in open_now, f"{uri} closed while not open"
            open_now.discard(uri)
        elif kind == "outline" and not settled and not versions:
            settled = True  # the one documentSymbol before any didOpen (Fleet._settle)
        else:
            assert entry["open"], f"{kind} on {uri} while it was not open"
    return versions


def test_the_window_bounds_open_documents_and_every_question_has_its_document_open(
    enrich: Enrich, tmp_path: Path
) -> None:
    record = tmp_path / "events.jsonl"
    done = enrich.run(
        *FAST, "--open-files", "2", "--jobs", "3",
        server_args=("--events", str(record), "--open-only"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = summary(done)
    assert result["missing"] == 0
    assert result["files"] == FILES + 1
    servers = by_server(record)
    assert servers
    opened: dict[str, list[int]] = defaultdict(list)
    for log in servers.values():
        for uri, versions in check_window(log, 2).items():
            # Re-opened after a close: a higher version each time (spec: Text Document Item).
            assert versions == sorted(set(versions)), (uri, versions)
            opened[uri].extend(versions)
    # Every file was opened for its outline; all but the last ones still open from then (at
    # most the window's size per server) were opened again for their questions.
    assert len(opened) == FILES + 1
    reopened = [uri for uri, versions in opened.items() if len(versions) >= 2]
    assert len(reopened) >= FILES + 1 - 2 * len(servers), opened
    # Nothing was refused for a closed document: only bad_* fail (1 + 1 retry each, 3 ops).
    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    assert kinds[("good_6_6", "references")] == "edge"
    assert kinds[("bad_6", "references")] == "error"
    assert result["requests"]["failures"] == (FILES + 1) * 3 * 2


def test_open_files_0_keeps_every_document_open(enrich: Enrich, tmp_path: Path) -> None:
    record = tmp_path / "events.jsonl"
    done = enrich.run(*FAST, "--open-files", "0", server_args=("--events", str(record)))
    assert done.returncode == 0, done.stderr
    opened: list[str] = []
    for log in by_server(record).values():
        assert not [e for e in log if e["event"] == "close"]
        opens = [e["uri"] for e in log if e["event"] == "open"]
        assert len(opens) == len(set(opens)), "a document opened twice"
        opened.extend(opens)
    # Every file was opened (once per server that worked on it), so the checks above saw them.
    assert len(set(opened)) == FILES + 1, opened


def test_open_files_must_not_be_negative(enrich: Enrich) -> None:
    done = enrich.run("--open-files", "-1")
    assert done.returncode == 2
    assert "--open-files" in done.stderr


def peak_open(log: list[dict[str, Any]]) -> int:
    return max((e["count"] for e in log if e["event"] == "open"), default=0)


@pytest.mark.parametrize("name", ["basedpyright", "pyrefly-lsp", "ty", "Pyright"])
def test_auto_keeps_every_document_open_for_whole_workspace_servers(
    tmp_path: Path, name: str
) -> None:
    """The default, `--open-files auto`, by the serverInfo name in initialize: servers that
    analyse the whole workspace anyway keep every document open once opened."""
    enrich = make_enrich(tmp_path)
    for n in range(12):  # more files than DEFAULT_OPEN_FILES
        (enrich.ws / f"m{n}.py").write_text(f"def good_{n}():\n    pass\n")
    record = tmp_path / "events.jsonl"
    done = enrich.run(
        *FAST, "--servers", "1", server_args=("--events", str(record), "--name", name)
    )
    assert done.returncode == 0, done.stderr
    (log,) = by_server(record).values()
    assert not [e for e in log if e["event"] == "close"]
    assert peak_open(log) == 12 + 1  # and the helpers' own sample file


def test_auto_bounds_every_other_server_by_the_default_window(tmp_path: Path) -> None:
    enrich = make_enrich(tmp_path)
    for n in range(12):
        (enrich.ws / f"m{n}.py").write_text(f"def good_{n}():\n    pass\n")
    record = tmp_path / "events.jsonl"
    done = enrich.run(
        *FAST, "--servers", "1", server_args=("--events", str(record), "--name", "clangd")
    )
    assert done.returncode == 0, done.stderr
    (log,) = by_server(record).values()
    check_window(log, DEFAULT_OPEN_FILES)
    assert peak_open(log) == DEFAULT_OPEN_FILES


def test_auto_window_by_server_info() -> None:
    assert auto_window({"name": "basedpyright", "version": "1.40.2"}) == 0
    assert auto_window({"name": "pyrefly-lsp"}) == 0
    assert auto_window({"name": " TY "}) == 0
    assert auto_window({"name": "clangd"}) == DEFAULT_OPEN_FILES
    assert auto_window({"name": 3}) == DEFAULT_OPEN_FILES
    assert auto_window(None) == DEFAULT_OPEN_FILES  # no serverInfo: not known to be safe
