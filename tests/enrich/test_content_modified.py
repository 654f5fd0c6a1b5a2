"""Answers that are no answer (issue 12), end to end through the real proxy and the default window.

ty and pyrefly answer the requests in flight ContentModified (-32801) or RequestCancelled (-32800)
whenever a document opens or closes. Such a pair is asked again once the proxy's tracker lets it
through, never counted as an empty answer, and never asked while the tracker still backs it off
(the proxy would answer that `null` itself). The test server (servers/fails_on_bad.py) says
these things on purpose, by name and by how often it was asked — no timing involved; one server,
so its counts are the run's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from enrich_helpers import Enrich, make_enrich, summary

FAST = ("--backoff-base", "0.2", "--interval", "0.1", "--servers", "1")
REFS, IMPL = "textDocument/references", "textDocument/implementation"
PREPARE = "textDocument/prepareCallHierarchy"
INCOMING, OUTGOING = "callHierarchy/incomingCalls", "callHierarchy/outgoingCalls"
OPERATIONS = ("references", "implementation", "prepare_call_hierarchy", "incoming_calls",
              "outgoing_calls")  # fmt: skip
NAMES = ("good_one", "modified_one", "cancelled_one", "flicker_one", "preparemod_one")


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    enrich = make_enrich(tmp_path)
    (enrich.ws / "a.py").write_text("".join(f"def {name}():\n    pass\n\n\n" for name in NAMES))
    return enrich


def test_no_answer_is_asked_again_and_never_taken_for_an_empty_one(enrich: Enrich) -> None:
    done = enrich.run(*FAST)
    assert done.returncode == 0, done.stderr
    result = summary(done)
    assert result["completed"] is True and result["missing"] == 0, result
    assert result["unfilled"] == []
    # Every pair waited for the tracker: the proxy never had to answer null itself.
    assert result["requests"]["short_circuited"] == 0, result["requests"]
    assert result["requests"]["transient"] > 0, result["requests"]

    kinds = {(e["name"], e["operation"]): e["kind"] for e in enrich.edges()}
    for op in OPERATIONS:
        for name in ("good_one", "modified_one", "cancelled_one", "preparemod_one"):
            assert kinds[(name, op)] == "edge", (name, op, kinds)
        # Empty, ContentModified, empty, empty: the first empty was never confirmed (the
        # ContentModified broke the pair), the last two confirm each other.
        assert kinds[("flicker_one", op)] == "none", (op, kinds)

    counts = enrich.counts()
    for name in ("modified_one", "cancelled_one"):
        for method in (REFS, IMPL):
            assert counts[(method, name)] == 2, (method, name, counts)
    assert counts[(REFS, "flicker_one")] == 4, counts
    # prepare 1: an item, incoming calls ContentModified, outgoing calls answered; prepare 2
    # (for the incoming calls again): ContentModified, so prepare is held back although it has
    # data — the incoming calls wait for it instead of being answered null; prepare 3: asked
    # with the incoming calls once more.
    assert counts[(PREPARE, "preparemod_one")] == 3, counts
    assert (counts[(INCOMING, "preparemod_one")], counts[(OUTGOING, "preparemod_one")]) == (2, 1)


def test_a_pair_never_answered_leaves_the_run_not_completed(enrich: Enrich) -> None:
    (enrich.ws / "a.py").write_text("def good_one():\n    pass\n\n\ndef never_one():\n    pass\n")
    done = enrich.run(*FAST, "--operation", "references")
    assert done.returncode == 4, done.stderr  # summary.EXIT_UNFILLED
    result = summary(done)
    assert result["completed"] is False
    left = [(p["name"], p["operation"]) for p in result["unfilled"]]
    assert left == [("never_one", "references")]
    assert result["unresolved"] == 1 and result["orphans"] == []
    assert enrich.counts()[(REFS, "never_one")] == 10  # monitor.MAX_TRANSIENT_ASKS
    assert result["requests"]["short_circuited"] == 0


def test_a_pair_only_ever_cancelled_is_unresolved_not_a_defect(enrich: Enrich) -> None:
    """RequestCancelled leaves no failure state (nobody asked for it): a pair the server
    cancels every time ends unfilled (exit 4), not as an "answered yet orphan" defect (exit
    3), which means two keys for one symbol."""
    (enrich.ws / "a.py").write_text("def good_one():\n    pass\n\n\ndef refused_one():\n    pass\n")
    done = enrich.run(*FAST, "--operation", "references")
    assert done.returncode == 4, done.stderr  # summary.EXIT_UNFILLED
    result = summary(done)
    assert [(p["name"], p["operation"]) for p in result["unfilled"]] == [
        ("refused_one", "references")
    ]
    assert result["unresolved"] == 1 and result["orphans"] == []
    assert enrich.counts()[(REFS, "refused_one")] == 10  # monitor.MAX_TRANSIENT_ASKS


def test_operations_the_server_does_not_advertise_are_recorded_not_asked(enrich: Enrich) -> None:
    # As zuban: no callHierarchyProvider. The test server would answer anyway (and log it).
    done = enrich.run(*FAST, server_args=("--no-call-hierarchy",))
    assert done.returncode == 0, done.stderr
    result = summary(done)
    assert result["completed"] is True and result["missing"] == 0, result
    counts = enrich.counts()
    assert not [key for key in counts if key[0] in (PREPARE, INCOMING, OUTGOING)], counts
    assert counts[(REFS, "good_one")] == 1
    rows = {(e["name"], e["operation"]): e for e in enrich.edges()}
    for name in NAMES:
        for op in ("prepare_call_hierarchy", "incoming_calls", "outgoing_calls"):
            row = rows[(name, op)]
            # What a -32601 answer records: the pair is no orphan, an indexer stops asking.
            assert row["kind"] == "error" and "not supported" in row["detail"], row
        assert rows[(name, "references")]["kind"] in ("edge", "none")
    # Their symbols keep the version they were recorded at: nothing else became an orphan.
    assert result["requests"]["short_circuited"] == 0
