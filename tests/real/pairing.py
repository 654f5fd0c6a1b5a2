"""One server started directly and one started behind the proxy, driven in lockstep.

Both sessions receive the same messages in the same order with the same request ids, so a
server's answer through the proxy must be byte-for-byte the answer it gives directly: nothing
is normalized, not even the id. Proxy-private requests (``lspBackoff/*``) go to the proxied
session only; the proxy answers them itself, so the server behind it never sees them and the
two servers stay in the same state.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lspwire import CLIENT_CAPABILITIES, Frame, LspClient
from realtools import PROXY, clean_env, proxy_command

Ready = Callable[[LspClient], bool]


@dataclass
class Pair:
    direct: LspClient
    proxied: LspClient
    root: Path
    db: Path
    log: Path
    uris: list[str] = field(default_factory=list)
    #: The server's answer to initialize (the same through the proxy: start_pair checks).
    initialized: Frame | None = None
    #: Ask the direct server first and the proxied one once it has answered (see start_pair).
    one_at_a_time: bool = False
    _seq: int = 1000

    async def both(self, method: str, params: Any) -> tuple[Frame, Frame]:
        """Sends the same request (same id) to both sessions; returns (direct, proxied)."""
        self._seq += 1
        if self.one_at_a_time:
            direct = await self.direct.request(method, params, rid=self._seq)
            return direct, await self.proxied.request(method, params, rid=self._seq)
        direct, proxied = await asyncio.gather(
            self.direct.request(method, params, rid=self._seq),
            self.proxied.request(method, params, rid=self._seq),
        )
        return direct, proxied

    async def same(self, method: str, params: Any) -> Frame:
        """Asserts the proxied answer is the direct answer, byte for byte; returns it."""
        direct, proxied = await self.both(method, params)
        assert proxied.raw == direct.raw, (
            f"{method} differs through the proxy\n"
            f"  params:  {json.dumps(params)}\n"
            f"  direct:  {direct.raw[:2000]!r}\n"
            f"  proxied: {proxied.raw[:2000]!r}\n"
            f"  proxy log: {self.log_tail()}"
        )
        return proxied

    async def same_but_order(self, method: str, params: Any) -> Frame:
        """Like `same`, except that a list result may come in another order.

        For servers whose order is not theirs to keep: clangd merges the answers of its
        dynamic and background indexes in whichever order they finish, so two clangd processes
        on a loaded machine list the same references differently. Byte-for-byte relaying is
        proven where one server's bytes are compared with what reaches the client
        (tests/e2e, servers/raw_recorder.py); here the answer's content must be equal.
        """
        direct, proxied = await self.both(method, params)
        if proxied.raw != direct.raw:
            assert isinstance(direct.result, list), (method, direct.raw[:2000])
            assert isinstance(proxied.result, list), (method, proxied.raw[:2000])
            key = functools.partial(json.dumps, sort_keys=True)
            assert sorted(map(key, proxied.result)) == sorted(map(key, direct.result)), (
                f"{method} differs through the proxy (order aside)\n"
                f"  direct:  {direct.raw[:2000]!r}\n  proxied: {proxied.raw[:2000]!r}"
            )
            assert {k: v for k, v in proxied.msg.items() if k != "result"} == {
                k: v for k, v in direct.msg.items() if k != "result"
            }
        return proxied

    async def flush(self) -> None:
        frame = await self.proxied.request("lspBackoff/flush")
        assert frame.result == {"committed": True}, frame.raw

    async def stats(self) -> dict[str, int]:
        frame = await self.proxied.request("lspBackoff/stats")
        assert isinstance(frame.result, dict), frame.raw
        return frame.result

    async def edges(self, *args: str) -> list[dict[str, Any]]:
        """Flushes the proxy's writes, then reads them back with ``lsp-backoff edges --json``."""
        await self.flush()
        return graph_cli("edges", "--json", "--db", str(self.db), *args)

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n    ".join(["", *lines[-n:]])

    async def close(self) -> tuple[int | None, int | None]:
        return await asyncio.gather(self.direct.close(), self.proxied.close())


def graph_cli(*args: str) -> list[dict[str, Any]]:
    """Runs a graph subcommand of the CLI and decodes its ``--json`` output (one object a line)."""
    done = subprocess.run([*PROXY, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"lsp-backoff {' '.join(args)} failed: {done.stderr}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def edges_for(
    edges: list[dict[str, Any]], name: str, operation: str, *, uri_suffix: str = ""
) -> list[dict[str, Any]]:
    return [
        e
        for e in edges
        if e["name"] == name and e["operation"] == operation and e["uri"].endswith(uri_suffix)
    ]


async def start_pair(
    server: Sequence[str],
    *,
    root: Path,
    tmp: Path,
    files: Sequence[Path],
    language_id: str,
    ready: Ready,
    options: Any = None,
    proxy_args: Sequence[str] = ("--backoff-base", "1"),
    share_cache: bool = False,
) -> Pair:
    """Starts, initializes and opens ``files`` in both sessions, then waits until ``ready``.

    ``share_cache``: both servers get one XDG_CACHE_HOME, for a server whose answers name files
    in its cache (ty extracts the typeshed stubs it points at there): with two caches the same
    answer would name two different files. Requests then go to one server after the other:
    two ty processes extracting the same file at once make one of them answer ``[]``.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    db, log = tmp / "graph.db", tmp / "proxy.log"
    # Separate caches by default: two jedi processes sharing ~/.cache/jedi read each other's
    # half-written pickles ("EOFError: Ran out of input") and answer differently.
    envs = {side: clean_env(tmp / side) for side in ("direct", "proxied")}
    if share_cache:
        for env in envs.values():
            env["XDG_CACHE_HOME"] = str(tmp / "cache")
    direct = await LspClient.start(
        server,
        cwd=root,
        env=envs["direct"],
        stderr_path=tmp / "direct.stderr",
        name="direct",
    )
    proxied = await LspClient.start(
        proxy_command(db, log, list(server), *proxy_args),
        cwd=root,
        env=envs["proxied"],
        stderr_path=tmp / "proxied.stderr",
        name="proxied",
    )
    pair = Pair(direct, proxied, root, db, log, one_at_a_time=share_cache)
    try:
        inits = await asyncio.gather(
            *(
                c.initialize(root, capabilities=CLIENT_CAPABILITIES, options=options)
                for c in (direct, proxied)
            )
        )
        # The handshake itself goes through untouched.
        assert inits[1].raw == inits[0].raw, (inits[0].raw[:500], inits[1].raw[:500])
        pair.initialized = inits[1]
        for client in (direct, proxied):
            pair.uris = [client.did_open(path, language_id) for path in files]
        await asyncio.gather(
            direct.wait_for(ready, "readiness"), proxied.wait_for(ready, "readiness")
        )
    except BaseException:
        with contextlib.suppress(Exception):
            await pair.close()
        raise
    return pair


def text_position(uri: str, position: dict[str, int]) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": position}
