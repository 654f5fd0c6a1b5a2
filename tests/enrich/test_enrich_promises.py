"""What README promises of `lsp-backoff enrich`, each through a real enrich process and a real
test server (servers/fails_on_bad.py): `--include`/`--exclude` choose the files, `--servers
auto` sizes the pool from the cores it may run on, and a second Ctrl-C stops at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from enrich_helpers import ROOT, Enrich, env, make_enrich, summary

from lsp_backoff.proxy.enrich.pool import MAX_AUTO_SERVERS, MEMORY_PER_SERVER

#: Failures retried fast: these tests are about which files and servers, not backoff.
FAST = ("--backoff-base", "0.2", "--max-retries", "1", "--interval", "0.1")


@pytest.fixture
def enrich(tmp_path: Path) -> Enrich:
    return make_enrich(tmp_path)


def outlined(events: Path) -> set[str]:
    """The files the server was asked to outline (documentSymbol), by name relative to ws."""
    lines = [json.loads(line) for line in events.read_text().splitlines() if line]
    return {Path(e["uri"]).name for e in lines if e["event"] == "outline"}


def test_include_and_exclude_choose_the_files(enrich: Enrich, tmp_path: Path) -> None:
    (enrich.ws / "b.py").write_text("def good_b():\n    pass\n")
    (enrich.ws / "notes.txt").write_text("def good_txt():\n    pass\n")  # not a source
    (enrich.ws / "gen").mkdir()
    (enrich.ws / "gen" / "c.py").write_text("def good_c():\n    pass\n")
    events = tmp_path / "events.jsonl"
    done = enrich.run(*FAST, "--exclude", "gen/*", server_args=("--events", str(events)))
    assert done.returncode == 0, done.stderr
    assert outlined(events) == {"a.py", "b.py"}  # the default: source extensions
    assert summary(done)["files"] == 2

    events.unlink()
    done = enrich.run(
        *FAST, "--include", "*.txt", "--include", "c.py", server_args=("--events", str(events))
    )
    assert done.returncode == 0, done.stderr
    assert outlined(events) == {"notes.txt", "c.py"}  # by name or by path
    assert summary(done)["files"] == 2


def expected_auto(cores: int) -> int:
    """What README says `--servers auto` picks on `cores` cores, on this machine's memory."""
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        available = next(int(x.split()[1]) * 1024 for x in meminfo if x.startswith("MemAvailable"))
    return max(1, min(cores, MAX_AUTO_SERVERS, available // MEMORY_PER_SERVER))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux: CPU affinity")
@pytest.mark.parametrize("cores", [1, 2])
def test_servers_auto_is_one_per_core_it_may_use(
    enrich: Enrich, tmp_path: Path, cores: int
) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < cores:
        pytest.skip(f"this machine lets us use {len(allowed)} core(s)")
    for n in range(6):  # more files than servers: each server gets work
        (enrich.ws / f"m{n}.py").write_text(f"def good_{n}():\n    pass\n")
    events = tmp_path / "events.jsonl"
    expected = expected_auto(cores)
    done = asyncio.run(
        run_pinned(enrich.argv(*FAST, "--servers", "auto", server_args=("--events", str(events))),
                   set(allowed[:cores]))
    )  # fmt: skip
    assert done == 0
    pids = {json.loads(line)["pid"] for line in events.read_text().splitlines() if line}
    assert len(pids) == expected, (pids, expected)


async def run_pinned(argv: list[str], cores: set[int]) -> int:
    """`argv` run on `cores` only (as `taskset` would), to the end."""
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env(), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 90)


async def test_a_second_ctrl_c_stops_at_once(enrich: Enrich, tmp_path: Path) -> None:
    """The first Ctrl-C waits for the requests in flight (here: 30 s each), the second does not:
    the run ends through its interrupted path, not the drained one."""
    log = tmp_path / "requests.jsonl"
    process = await asyncio.create_subprocess_exec(
        *enrich.argv(server_args=("--delay", "30")), cwd=ROOT, env=env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    assert process.stderr is not None
    said: list[str] = []

    async def until(text: str) -> None:
        while not any(text in line for line in said):
            line = await process.stderr.readline()  # type: ignore[union-attr]
            assert line, f"enrich ended before saying {text!r}: {said}"
            said.append(line.decode())

    try:
        async with asyncio.timeout(60):
            while not (log.exists() and log.read_text().strip()):  # a request is in flight
                await asyncio.sleep(0.05)
            os.killpg(process.pid, signal.SIGINT)
            await until("Ctrl-C again: now")
            os.killpg(process.pid, signal.SIGINT)
            out, rest = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    said.append(rest.decode())
    assert process.returncode == 130, said
    # The drained path prints the summary and "interrupted; run it again to continue"; the
    # second Ctrl-C cancels the run: one line, no summary.
    last = "".join(said).strip().splitlines()[-1]
    assert last == "lsp-backoff enrich: interrupted", said
    assert out == b""
