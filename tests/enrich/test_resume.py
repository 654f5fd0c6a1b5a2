"""Ctrl-C mid-run and a second run: everything answered before the interrupt stays recorded,
nothing is asked twice once it has data, and no row is duplicated."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from enrich_helpers import Enrich, interrupt, make_enrich, summary


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    return make_enrich(tmp_path)


NAMES = [f"good_{i}" for i in range(30)]
OPTIONS = (
    "--interval",
    "0.1",
    "--jobs",
    "2",
    "--operation",
    "references",
    "--operation",
    "implementation",
    "--operation",
    "incoming_calls",
)


def wait_for_requests(enrich: Enrich, count: int, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while len(enrich.requests()) < count:
        assert time.monotonic() < end, "the server never got the requests"
        time.sleep(0.05)


def test_interrupt_then_resume(enrich: Enrich) -> None:
    (enrich.ws / "a.py").write_text("".join(f"def {name}():\n    pass\n\n" for name in NAMES))
    process = enrich.start(*OPTIONS, server_args=("--delay", "0.05"))
    try:
        wait_for_requests(enrich, 10)
        interrupt(process)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    first = json.loads(out.strip().splitlines()[-1])
    assert first["interrupted"] is True
    assert first["restarts"] == 0, "Ctrl-C reached the server"
    asked_first = enrich.counts()
    recorded = {(e["name"], e["operation"]) for e in enrich.edges()}
    assert recorded, "nothing recorded before the interrupt"
    assert len(asked_first) < 4 * len(NAMES), "the interrupt came too late to test anything"

    done = enrich.run(*OPTIONS)
    assert done.returncode == 0, done.stderr
    assert summary(done)["missing"] == 0
    # Each (method, symbol) reached the server once over both runs: what the first run
    # answered was not asked again, and the interrupt lost nothing that had been sent.
    counts = enrich.counts()
    methods = (
        "textDocument/references",
        "textDocument/implementation",
        "textDocument/prepareCallHierarchy",
        "callHierarchy/incomingCalls",
    )
    assert set(counts) == {(m, n) for m in methods for n in NAMES}
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1]

    rows = Counter(
        (e["symbol"], e["operation"], e["kind"], json.dumps(e["target"], sort_keys=True))
        for e in enrich.edges()
    )
    assert set(rows.values()) == {1}
    keys = enrich.rows("SELECT count(*), count(DISTINCT key) FROM symbols")
    assert keys[0][0] == keys[0][1] == len(NAMES)


def children_of(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found.add(int(child))
            found |= children_of(int(child))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_terminated_enrich_takes_its_server_down_and_keeps_what_it_recorded(
    enrich: Enrich, sig: signal.Signals
) -> None:
    (enrich.ws / "a.py").write_text("".join(f"def {name}():\n    pass\n\n" for name in NAMES))
    process = enrich.start(*OPTIONS, server_args=("--delay", "0.05"))
    try:
        wait_for_requests(enrich, 10)
        server = children_of(process.pid)
        assert server, "enrich started no server"
        process.send_signal(sig)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 128 + sig, err
    assert f"stopped by {sig.name}" in err
    assert not [pid for pid in server if running(pid)], "the server outlived enrich"
    assert enrich.edges(), "what was answered before the signal was lost"
