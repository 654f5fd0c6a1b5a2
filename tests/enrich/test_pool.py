"""enrich --servers N: several real server processes, one graph, one backoff decision.

The test server appends every request to one log shared by all its processes (servers/
fails_on_bad.py), and every didOpen/request with its pid to the events file, so the counts
here are across the whole pool.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from enrich_helpers import Enrich, make_enrich, summary

FILES = 6
FAST = ("--backoff-base", "0.2", "--max-retries", "3", "--interval", "0.1", "--jobs", "1")
LOCATE = ("textDocument/references", "textDocument/implementation",
          "textDocument/prepareCallHierarchy")  # fmt: skip


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    enrich = make_enrich(tmp_path)
    for n in range(FILES):
        body = "".join(f"def good_{n}_{i}():\n    pass\n\n" for i in range(3))
        (enrich.ws / f"m{n}.py").write_text(body + f"def bad_{n}():\n    pass\n")
    return enrich


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def graph(enrich: Enrich, db: Path) -> set[tuple[Any, ...]]:
    """Edges and placeholders, order and times aside."""
    enrich.db, saved = db, enrich.db
    try:
        return {
            (e["symbol"], e["operation"], e["kind"], json.dumps(e["target"], sort_keys=True))
            for e in enrich.edges()
        }
    finally:
        enrich.db = saved


def test_a_failing_question_is_asked_max_retries_plus_one_times_across_the_pool(
    enrich: Enrich, tmp_path: Path
) -> None:
    record = tmp_path / "events.jsonl"
    done = enrich.run(*FAST, "--servers", "3", server_args=("--events", str(record)))
    assert done.returncode == 0, done.stderr
    asked_by = Counter(e["pid"] for e in events(record) if e["event"] == "ask")
    assert len(asked_by) == 3, asked_by  # every server did part of the work
    counts = enrich.counts()
    bad = ["bad_one", *(f"bad_{n}" for n in range(FILES))]
    for name in bad:
        for method in LOCATE:
            assert counts[(method, name)] == 4, (method, name)  # never 4 per server
    result = summary(done)
    assert result["missing"] == 0
    assert result["requests"]["failures"] == len(bad) * len(LOCATE) * 4  # one set of counters
    for n in range(FILES):
        for i in range(3):
            assert counts[("textDocument/references", f"good_{n}_{i}")] == 1


def test_the_graph_equals_a_single_server_run(enrich: Enrich, tmp_path: Path) -> None:
    one = enrich.run(*FAST, "--servers", "1")
    assert one.returncode == 0, one.stderr
    single = graph(enrich, enrich.db)
    enrich.db = tmp_path / "pool.db"
    three = enrich.run(*FAST, "--servers", "3")
    assert three.returncode == 0, three.stderr
    pooled = graph(enrich, enrich.db)
    assert pooled == single
    kinds = Counter(kind for _, _, kind, _ in pooled)
    assert kinds["edge"] and kinds["none"] and kinds["error"]  # all three kinds compared
    assert summary(three)["operations"] == summary(one)["operations"]


def test_a_server_that_dies_is_restarted_while_the_others_go_on(
    enrich: Enrich, tmp_path: Path
) -> None:
    with (enrich.ws / "a.py").open("a") as handle:
        handle.write("\n\ndef crash_me():\n    pass\n")
    record, marker = tmp_path / "events.jsonl", tmp_path / "crashed"
    done = enrich.run(
        *FAST, "--servers", "2", "--operation", "references",
        server_args=("--events", str(record), "--delay", "0.2", "--crash-marker", str(marker)),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    result = summary(done)
    assert result["restarts"] == 1
    assert result["missing"] == 0
    log = events(record)
    crash = next(i for i, e in enumerate(log) if e["event"] == "ask" and e["name"] == "crash_me")
    dead = log[crash]["pid"]
    first_two = list(dict.fromkeys(e["pid"] for e in log[:crash]))
    survivor = next(pid for pid in first_two if pid != dead)
    # The other server went on answering after the death...
    assert any(e["pid"] == survivor and e["event"] == "ask" for e in log[crash + 1 :])
    # ...and the dead one was replaced by a new process.
    assert {e["pid"] for e in log[crash + 1 :]} - {dead, survivor}
    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    assert kinds[("crash_me", "references")] == "edge"  # asked again after the death
    assert enrich.counts()[("textDocument/references", "crash_me")] == 2
