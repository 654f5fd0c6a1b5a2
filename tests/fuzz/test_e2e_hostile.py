"""End to end: thousands of hostile frames from both sides through a real proxy process.

The client sends valid requests (`test/echo`, a tracked definition on an open document) with
hostile frames and junk bytes between them; for every echo the server (sends_hostile.py) first
sends hostile frames of its own. Afterwards the session must be alive, every valid request
answered exactly once, the server must have received exactly the frames the client sent (plus
the proxy's own `$/cancelRequest`s, if any), and the client exactly the frames the server sent
(plus the proxy's own error answers, minus late answers to those): nothing lost, nothing
changed, no session ended. The counts by kind and direction are printed.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hostile import HOSTILE_URI, frame, hostile

REPO = Path(__file__).resolve().parents[2]
#: Hostile frames per direction: seconds in CI, LSP_BACKOFF_FUZZ_FRAMES for `make fuzz`.
E2E_FRAMES = int(os.environ.get("LSP_BACKOFF_FUZZ_FRAMES", "1500"))
SERVER = REPO / "tests" / "servers" / "sends_hostile.py"
VALID_URI = "file:///fuzz/valid.py"
# One name per valid definition request: identical requests in flight together would be
# coalesced (answered from one server request), which is not what this test is about.
VALID_TEXT = "".join(f"name_{n} = {n}\n" for n in range(2000))
WAIT = 120.0


def split_frames(data: bytes) -> list[bytes]:
    """Whole frames (header and body) of a byte stream that holds nothing else."""
    frames, pos = [], 0
    while pos < len(data):
        end = data.index(b"\r\n\r\n", pos)
        header = data[pos:end].decode("ascii")
        length = next(
            int(line.split(":")[1]) for line in header.split("\r\n") if ":" in line
            if line.split(":")[0].strip().lower() == "content-length"
        )  # fmt: skip
        frames.append(data[pos : end + 4 + length])
        pos = end + 4 + length
    return frames


def body_of(raw: bytes) -> bytes:
    return raw[raw.index(b"\r\n\r\n") + 4 :]


def loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def junk(rng: random.Random) -> bytes:
    # Not a frame: no colon (so no header line), no "c" (so no Content-Length); the proxy
    # drops it and resynchronises on the next header.
    letters = "abdefghijklmnopqrstuvwxyz0123456789 \t"
    return (
        "garbage " + "".join(rng.choice(letters) for _ in range(rng.randint(0, 40)))
    ).encode() + (b"\r\n\r\n")


@pytest.mark.timeout(int(2 * WAIT) + 60)  # two waits of WAIT (answers, then the exit)
async def test_hostile_frames_from_both_sides(tmp_path: Path, fuzz_seed: int) -> None:
    rng = random.Random(fuzz_seed)
    record_in, record_out = tmp_path / "server_in", tmp_path / "server_out"
    db = tmp_path / "graph.db"  # a real store: every answer is recorded through its writer
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lsp_backoff", "--db", str(db), "--timeout", "10", "--",
        sys.executable, str(SERVER),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env={**__import__("os").environ, "RECORDER_IN": str(record_in),
             "RECORDER_OUT": str(record_out)},
        limit=1 << 24,
    )  # fmt: skip
    assert proc.stdin and proc.stdout and proc.stderr
    received = bytearray()
    stderr = bytearray()

    async def pump(stream: asyncio.StreamReader, into: bytearray) -> None:
        while chunk := await stream.read(1 << 16):
            into += chunk

    readers = [asyncio.create_task(pump(proc.stdout, received)),
               asyncio.create_task(pump(proc.stderr, stderr))]  # fmt: skip
    sent: list[bytes] = []  # every frame the client wrote, in order
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    valid: dict[int, Any] = {}  # id -> the answer's expected "echo" (None: a definition)

    def send(raw: bytes) -> None:
        proc.stdin.write(raw)  # type: ignore[union-attr]
        sent.append(raw)

    def request(ident: int, method: str, params: Any) -> None:
        send(frame(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method,
                               "params": params}).encode()))  # fmt: skip

    request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    valid[1] = "initialize"
    send(frame(b'{"jsonrpc":"2.0","method":"initialized","params":{}}'))
    item = {"uri": VALID_URI, "languageId": "python", "version": 1, "text": VALID_TEXT}
    send(frame(json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                           "params": {"textDocument": item}}).encode()))  # fmt: skip
    batches = max(1, E2E_FRAMES // 12)
    per_batch = E2E_FRAMES // batches
    for n in range(batches):
        for _ in range(per_batch):
            if rng.random() < 0.06:
                proc.stdin.write(junk(rng))  # not a frame: not in `sent`
                counts["junk between frames (not a frame)", "client -> server"] += 1
            kind, body = hostile(rng)
            counts[kind, "client -> server"] += 1
            send(frame(body))
        ident = 100 + n
        if n % 3 == 2:  # a tracked request on the valid document: answered, never held back
            where = {"textDocument": {"uri": VALID_URI}, "position": {"line": n, "character": 2}}
            request(ident, "textDocument/definition", where)
            valid[ident] = None
        else:
            seed = rng.getrandbits(32)
            # As many from the server as from the client over the run (a third of the valid
            # requests are definitions, which bring no hostile frames).
            back = per_batch * 3 // 2
            request(ident, "test/echo", {"n": ident, "hostile": back, "seed": seed})
            valid[ident] = ident
            server_rng = random.Random(seed)  # what the server sends, replayed for the counts
            for _ in range(back):
                counts[hostile(server_rng)[0], "server -> client"] += 1
        await proc.stdin.drain()

    answers: dict[int, list[Any]] = collections.defaultdict(list)
    parsed = [0]  # bytes of `received` already looked at

    def collect() -> bool:
        """Take in the frames arrived since the last call; True once every valid id has one."""
        while (end := received.find(b"\r\n\r\n", parsed[0])) >= 0:
            header = bytes(received[parsed[0] : end]).lower()
            length = int(header.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(received) < end + 4 + length:
                break
            raw = bytes(received[parsed[0] : end + 4 + length])
            parsed[0] = end + 4 + length
            message = loads(body_of(raw))
            if isinstance(message, dict) and "method" not in message:
                ident = message.get("id")
                if isinstance(ident, int) and not isinstance(ident, bool) and ident in valid:
                    answers[ident].append(message)
        return set(answers) == set(valid)

    try:
        async with asyncio.timeout(WAIT):
            while not collect():
                await asyncio.sleep(0.2)
    except TimeoutError:
        # For a post-mortem: compare with server_in and server_out.
        (tmp_path / "client_sent").write_bytes(b"".join(sent))
        (tmp_path / "client_received").write_bytes(bytes(received))
        (tmp_path / "proxy_log").write_bytes(bytes(stderr))
        missing = sorted(set(valid) - set(answers))
        log = stderr.decode("utf-8", "replace")[-3000:]
        raise AssertionError(
            f"unanswered: {missing}; alive: {proc.returncode}; log: {log}"
        ) from None

    # Alive: the proxy still answers, and shuts down cleanly.
    request(9000, "lspBackoff/stats", None)
    sent.pop()  # answered by the proxy itself: never reaches the server
    request(9001, "shutdown", None)
    send(frame(b'{"jsonrpc":"2.0","method":"exit"}'))
    await proc.stdin.drain()
    async with asyncio.timeout(WAIT):
        status = await proc.wait()
        await asyncio.gather(*readers)
    log = stderr.decode("utf-8", "replace")
    assert "Traceback" not in log, log[-3000:]
    # Hostile requests the server could not read (too deep for its parser, not UTF-8, numbers
    # too long) are never answered: at its exit the proxy fails them (RequestFailed each) and
    # exits 1, as documented. Anything else ends it 0.
    pending_at_exit = "while requests were pending" in log
    assert status == (1 if pending_at_exit else 0), log[-3000:]

    client_frames = split_frames(bytes(received))  # also proves stdout held frames only
    answers.clear()
    parsed[0] = 0
    collect()
    for ident, expected in valid.items():
        got = answers[ident]
        assert len(got) == 1, (ident, got)
        if isinstance(expected, int):
            assert got[0]["result"] == {"echo": expected}
    stats = [loads(body_of(raw)) for raw in client_frames]
    (stats_answer,) = [m for m in stats if isinstance(m, dict) and m.get("id") == 9000]
    # The relay catches (and counts) every exception in decoding, document sync and recording,
    # logging one line without a traceback: a count of 0 is the only proof none happened.
    assert stats_answer["result"]["internal_errors"] == 0, log[-3000:]
    # The definitions on the valid document were forwarded and recorded: one edge per name.
    asked = sum(1 for expected in valid.values() if expected is None)
    assert stats_answer["result"]["forwarded"] >= asked, stats_answer
    listing = subprocess.run(
        [sys.executable, "-m", "lsp_backoff", "edges", "--json", "--db", str(db)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    edged = {row["symbol"] for row in rows if row["kind"] == "edge"}
    assert len(edged) == asked, (asked, listing.stdout[-2000:])

    # The server got exactly what the client sent, in order, byte for byte; the proxy may add
    # cancels of its own (a tracked request it timed out: then the client had an error).
    proxy_errors = [raw for raw in client_frames if b'"lsp-backoff: ' in body_of(raw)]
    timeouts = [raw for raw in proxy_errors if b"timed out after" in body_of(raw)]
    to_server = split_frames(record_in.read_bytes())
    own_cancels = [
        raw for raw in to_server
        if body_of(raw).startswith(b'{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":')
        and raw not in sent
    ]  # fmt: skip
    assert len(own_cancels) == len(timeouts)
    forwarded = [raw for raw in to_server if raw not in own_cancels]
    assert collections.Counter(forwarded) == collections.Counter(sent)
    # In order too, but for requests about a file not read yet: each waits for its read (off
    # the relay's thread) while later frames flow on.
    hostile_doc = HOSTILE_URI.encode()
    assert [r for r in forwarded if hostile_doc not in r] == [
        r for r in sent if hostile_doc not in r
    ]
    # The client got exactly what the server sent, apart from the proxy's own answers to the
    # timed-out requests (and the server's late answers to them, which the proxy drops).
    timed_out = {json.dumps(loads(body_of(raw))["id"]) for raw in timeouts}
    from_server = [
        raw for raw in split_frames(record_out.read_bytes())
        if not (isinstance(m := loads(body_of(raw)), dict) and json.dumps(m.get("id")) in timed_out
                and "method" not in m)
    ]  # fmt: skip
    local = [raw for raw in client_frames if raw in proxy_errors or b'"id":9000' in raw[:200]]
    assert [raw for raw in client_frames if raw not in local] == from_server

    report = sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    lines = [f"  {direction:<17} {kind:<36} {n:>6}" for (kind, direction), n in report]
    total = {d: sum(n for (_, dd), n in counts.items() if dd == d) for _, d in counts}
    print(
        f"\nhostile inputs (seed {fuzz_seed}; valid requests {len(valid)}, all answered once; "
        f"proxy timeouts {len(timeouts)}; failed at the server's exit "
        f"{len(proxy_errors) - len(timeouts)}):\n" + "\n".join(lines) + f"\n  totals: {total}"
    )
