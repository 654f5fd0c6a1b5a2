"""`make demo`, part 2: what the proxy is for, on a symbol that keeps failing.

basedpyright resolves everything in examples/ (part 1 shows 0 failures), so this part runs the
proxy in front of the project's own failing test server, tests/servers/always_fails.py: it
answers `textDocument/references` on any identifier starting with `bad` with an error. A plain
client asks about `bad_lookup` every 0.25 s; the proxy lets the server see the request only on
the backoff schedule, answers `null` at once in between, and after the last retry skips the
symbol for good and records an `error` placeholder, so the orphan query stops returning it.

    .venv/bin/python scripts/demo_failure.py DB [--backoff-base 1] [--max-retries 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "servers" / "always_fails.py"
CLI = [sys.executable, "-m", "lsp_backoff"]
SOURCE = (
    "def bad_lookup(key):\n    return key\n\n\ndef good_lookup(key):\n    return bad_lookup(key)\n"
)


class Client:
    """Just enough LSP over the proxy's pipes: requests, notifications, answers by id."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            header = await self.proc.stdout.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            message = json.loads(await self.proc.stdout.readexactly(length))
            if "method" in message and "id" in message:  # the server asks us: say nothing
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message and message["id"] in self.waiting:
                self.waiting.pop(message["id"]).set_result(message)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 60)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def graph(*args: str) -> str:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).rstrip() or "(nothing)"


async def run(db: str, base: float, retries: int) -> int:
    workspace = Path(tempfile.mkdtemp(prefix="lsp-backoff-demo-"))
    path = workspace / "lookup.py"
    path.write_text(SOURCE)
    uri = path.as_uri()
    log = f"{db}.log"  # the proxy's log and the test server's tracebacks, off the terminal
    options = ["--db", db, "--backoff-base", str(base), "--max-retries", str(retries)]
    proc = await asyncio.create_subprocess_exec(
        *CLI, *options, "--log-file", log, "--", sys.executable, str(SERVER),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    client = Client(proc)
    await client.request("initialize", {"processId": None, "rootUri": workspace.as_uri(),
                                        "capabilities": {}})  # fmt: skip
    client.notify("initialized", {})
    item = {"uri": uri, "languageId": "python", "version": 1, "text": SOURCE}
    client.notify("textDocument/didOpen", {"textDocument": item})
    where = {
        "textDocument": {"uri": uri},
        "position": {"line": 0, "character": 4},
        "context": {"includeDeclaration": False},
    }
    delays = [min(base * 2**k, 320.0) for k in range(retries)]
    print(f"Asking for references to bad_lookup every 0.25 s; backoff {base:g} s doubling, "
          f"{retries} retries: the server should see it at 0 s, then after "
          f"{' s, '.join(f'{d:g}' for d in delays)} s more.")  # fmt: skip
    start, asked, last = time.monotonic(), 0, ""
    deadline = sum(delays) + 2 * base + 1
    while time.monotonic() - start < deadline:
        answer = await client.request("textDocument/references", where)
        counts = (await client.request("test/counts", {}))["result"]["counts"]
        now = counts.get("textDocument/references bad_lookup", 0)
        elapsed = time.monotonic() - start
        if now > asked:
            error = answer.get("error", {}).get("message")
            line = f"  {elapsed:5.2f} s  server asked (#{now}) -> error: {error}"
            asked, last = now, ""
            print(line)
            if asked == 1:
                await client.request("lspBackoff/flush", {})
                print(f"\n  $ lsp-backoff orphans --db {db} --operation references")
                print(indent(graph("orphans", "--db", db, "--operation", "references")) + "\n")
        elif "error" not in answer and answer.get("result") is None and last != "null":
            print(f"  {elapsed:5.2f} s  answered at once with null by the proxy (server not asked)"
                  " ... and so on while it waits")  # fmt: skip
            last = "null"
        if asked == retries + 1 and elapsed > sum(delays) + base:
            break
        await asyncio.sleep(0.25)
    stats = (await client.request("lspBackoff/stats", {}))["result"]
    print(f"  proxy counters: {stats['tracked']} requests, {stats['failures']} failed at the "
          f"server, {stats['short_circuited']} answered at once, {stats['skipped']} skipped "
          f"for good (log: {log})")  # fmt: skip
    await client.request("lspBackoff/flush", {})
    await client.request("shutdown", None)
    client.notify("exit", None)
    await proc.wait()
    client.reader.cancel()
    key = f"{uri}#0:4:bad_lookup"
    print(f"\n$ lsp-backoff edges --db {db} --symbol '{key}' --operation references")
    print(graph("edges", "--db", db, "--symbol", key, "--operation", "references"))
    print(f"\n$ lsp-backoff orphans --db {db} --operation references")
    print(graph("orphans", "--db", db, "--operation", "references"))
    print("\nbad_lookup has an `error` placeholder and is not an orphan any more: an indexer "
          "stops asking.")  # fmt: skip
    return 0 if asked == retries + 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--backoff-base", type=float, default=1.0)
    parser.add_argument("--max-retries", type=int, default=2)
    args = parser.parse_args()
    return asyncio.run(run(args.db, args.backoff_base, args.max_retries))


if __name__ == "__main__":
    sys.exit(main())
