"""window.py without processes: which document is taken first, and what happens to the work of
a server that dies (a fake connection records didOpen/didClose)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.enrich.window import DocumentQueue, Window


class FakeConnection:
    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.exited = asyncio.Event()
        self.log = log

    def open(self, path: Path, text: str, version: int = 1) -> None:
        self.log.append(("open", path.name))

    def close_document(self, uri: str) -> None:
        self.log.append(("close", uri.rsplit("/", 1)[-1]))

    def change(self, uri: str, version: int, text: str) -> None:
        self.log.append(("change", f"{uri.rsplit('/', 1)[-1]} v{version} {text}"))


async def read(path: Path) -> str:
    return "text"


def submit(queue: DocumentQueue, name: str, work: Any) -> asyncio.Future[Any]:
    path = Path("/ws") / name
    return queue.submit(path.as_uri(), path, work)


async def answer(conn: Any) -> str:
    await asyncio.sleep(0)
    return "ok"


async def test_the_document_with_the_most_work_goes_first_and_is_closed_for_the_next() -> None:
    queue = DocumentQueue()
    log: list[tuple[str, str]] = []
    window = Window(queue, size=1, jobs=4, read=read)
    futures = [submit(queue, "small.py", answer)]
    futures += [submit(queue, "big.py", answer) for _ in range(3)]
    pump = asyncio.ensure_future(window.pump(FakeConnection(log)))  # type: ignore[arg-type]
    assert await asyncio.gather(*futures) == ["ok"] * 4
    await asyncio.sleep(0)
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    # small.py needed big.py's slot; nothing needs small.py's, so it stays open.
    assert log == [("open", "big.py"), ("close", "big.py"), ("open", "small.py")]
    assert window.peak == 1


async def test_a_document_stays_open_until_its_slot_is_needed() -> None:
    """Later work on an idle open document runs without a second didOpen (each one makes
    basedpyright start its analysis again); the longest idle is closed first."""
    queue = DocumentQueue()
    log: list[tuple[str, str]] = []
    window = Window(queue, size=2, jobs=4, read=read)
    pump = asyncio.ensure_future(window.pump(FakeConnection(log)))  # type: ignore[arg-type]
    assert await submit(queue, "a.py", answer) == "ok"
    assert await submit(queue, "b.py", answer) == "ok"
    assert await submit(queue, "a.py", answer) == "ok"  # a.py: now the most recently used
    assert log == [("open", "a.py"), ("open", "b.py")]
    assert await submit(queue, "c.py", answer) == "ok"
    assert await submit(queue, "a.py", answer) == "ok"
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    assert log == [("open", "a.py"), ("open", "b.py"), ("close", "b.py"), ("open", "c.py")]
    assert window.peak == 2


async def test_work_a_dead_server_had_not_started_goes_to_another_one() -> None:
    queue = DocumentQueue()
    log: list[tuple[str, str]] = []
    first, second = FakeConnection(log), FakeConnection(log)
    dying = Window(queue, size=2, jobs=1, read=read)

    async def die(conn: Any) -> str:
        conn.exited.set()  # the server goes away while this request is in flight
        raise ConnectionError("server died")

    lost = submit(queue, "a.py", die)
    kept = [submit(queue, "a.py", answer) for _ in range(2)]
    pump = asyncio.ensure_future(dying.pump(first))  # type: ignore[arg-type]
    await pump  # ends with the death
    assert isinstance(lost.exception(), ConnectionError)
    assert not any(future.done() for future in kept)
    assert dying.open == {}
    other = Window(queue, size=2, jobs=1, read=read)
    pump = asyncio.ensure_future(other.pump(second))  # type: ignore[arg-type]
    assert await asyncio.gather(*kept) == ["ok", "ok"]
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    assert log == [("open", "a.py"), ("open", "a.py")]


async def test_an_idle_open_document_does_not_hold_its_work_back_from_an_idle_server() -> None:
    """Two servers, no limit on open documents (`--open-files 0`, or `auto` for basedpyright):
    work on a document one server has open goes there while it has a request slot free (no
    second didOpen), and to the other server while it has none."""
    queue = DocumentQueue()
    log_a: list[tuple[str, str]] = []
    log_b: list[tuple[str, str]] = []
    gate = asyncio.Event()

    async def held(conn: Any) -> str:
        await gate.wait()
        return "held"

    a = Window(queue, size=0, jobs=1, read=read)
    pump_a = asyncio.ensure_future(a.pump(FakeConnection(log_a)))  # type: ignore[arg-type]
    assert await submit(queue, "doc.py", answer) == "ok"  # only A runs yet: A opens it
    busy = submit(queue, "other.py", held)  # A's one request slot, taken
    await asyncio.sleep(0)
    assert a.running == 1
    b = Window(queue, size=0, jobs=1, read=read)
    pump_b = asyncio.ensure_future(b.pump(FakeConnection(log_b)))  # type: ignore[arg-type]
    assert await submit(queue, "doc.py", answer) == "ok"  # A is busy: B takes it, opens it
    assert log_b == [("open", "doc.py")]
    gate.set()
    assert await busy == "held"
    await asyncio.sleep(0)

    async def which(conn: Any) -> str:
        return "A" if conn.log is log_a else "B"

    assert await submit(queue, "doc.py", which) == "A"  # A is free again: A, no didOpen
    assert log_a == [("open", "doc.py"), ("open", "other.py")]
    assert log_b == [("open", "doc.py")]
    for pump in (pump_a, pump_b):
        pump.cancel()
    await asyncio.gather(pump_a, pump_b, return_exceptions=True)


async def test_a_changed_file_is_told_where_it_is_open_at_its_next_version() -> None:
    """The window owns each document's versions (enrich --watch, fleet.Fleet.change): a file
    open here gets a didChange at the version after its didOpen's; one not open gets nothing."""
    queue = DocumentQueue()
    log: list[tuple[str, str]] = []
    window = Window(queue, size=0, jobs=4, read=read)
    connection = FakeConnection(log)
    pump = asyncio.ensure_future(window.pump(connection))  # type: ignore[arg-type]
    assert await submit(queue, "a.py", answer) == "ok"
    window.change(connection, (Path("/ws") / "a.py").as_uri(), "new")  # type: ignore[arg-type]
    window.change(connection, (Path("/ws") / "b.py").as_uri(), "new")  # type: ignore[arg-type]
    window.change(connection, (Path("/ws") / "a.py").as_uri(), "newer")  # type: ignore[arg-type]
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    assert log == [("open", "a.py"), ("change", "a.py v2 new"), ("change", "a.py v3 newer")]
