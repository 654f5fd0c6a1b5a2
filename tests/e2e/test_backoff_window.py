"""Issue 3, inside the backoff window: one always_fails server shared by the module.

`--backoff-base 60` keeps every failed symbol in its window for the whole module; each test uses
its own document and identifiers, so the tests do not see each other's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from harness import Doc, Session, count, opened_in, proxy_cmd, running, server_cmd

pytestmark = pytest.mark.asyncio(loop_scope="module")

NULL = {"jsonrpc": "2.0", "result": None}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Session, Path]]:
    root = tmp_path_factory.mktemp("window")
    cmd = proxy_cmd(server_cmd("always_fails"), "--no-db", "--backoff-base", "60")
    async with running(cmd, root) as session:
        yield session, root


async def opened(shared: tuple[Session, Path], name: str, text: str) -> tuple[Session, Doc]:
    session, root = shared
    return session, opened_in(session, root, name, text)


async def test_not_asked_again_inside_the_window(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "window", "bad_window = 1\n")
    first = await session.ask(doc.uri, doc.pos("bad_window"))
    assert first["error"]["code"] == -32603  # the server's own error, forwarded
    for _ in range(3):
        again = await session.ask(doc.uri, doc.pos("bad_window"))
        assert again == {**NULL, "id": again["id"]}
    assert count(await session.counts(), "bad_window") == 1


async def test_short_circuit_answer_uses_the_clients_id(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "ids", "bad_ids = 1\n")
    await session.ask(doc.uri, doc.pos("bad_ids"))
    params = {"textDocument": {"uri": doc.uri}, "position": {"line": 0, "character": 2}}
    for ident in ("a-string-id", 0, 2**40):
        response = await session.request("textDocument/definition", params, ident=ident)
        assert response == {**NULL, "id": ident}
    assert count(await session.counts(), "bad_ids") == 1


async def test_success_is_forwarded_and_not_backed_off(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "good", "good_one = 1\n")
    for _ in range(2):
        response = await session.ask(doc.uri, doc.pos("good_one"))
        assert response["result"]["uri"] == doc.uri
    assert count(await session.counts(), "good_one") == 2


async def test_positions_inside_one_identifier_share_state(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "inside", "x = 0\nvalue = bad_inside + 1\n")
    line, start = doc.pos("bad_inside")
    await session.ask(doc.uri, (line, start + 4))
    for character in (start, start + 1, start + len("bad_inside") - 1):
        response = await session.ask(doc.uri, (line, character))
        assert response == {**NULL, "id": response["id"]}
    assert count(await session.counts(), "bad_inside") == 1
    # A different identifier on the same line is its own symbol.
    await session.ask(doc.uri, doc.pos("value"))
    assert count(await session.counts(), "value") == 1


async def test_operations_are_tracked_apart(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "ops", "bad_ops = 1\n")
    refs = "textDocument/references"
    await session.ask(doc.uri, doc.pos("bad_ops"))
    first_refs = await session.ask(doc.uri, doc.pos("bad_ops"), refs)
    assert first_refs["error"]["code"] == -32603
    await session.ask(doc.uri, doc.pos("bad_ops"), "textDocument/implementation")
    await session.ask(doc.uri, doc.pos("bad_ops"), refs)
    counts = await session.counts()
    assert count(counts, "bad_ops") == 1
    assert count(counts, "bad_ops", refs) == 1
    assert count(counts, "bad_ops", "textDocument/implementation") == 1


async def test_same_name_in_another_document_is_another_symbol(
    shared: tuple[Session, Path],
) -> None:
    session, one = await opened(shared, "twin_a", "bad_twin = 1\n")
    _, two = await opened(shared, "twin_b", "bad_twin = 2\n")
    await session.ask(one.uri, one.pos("bad_twin"))
    await session.ask(two.uri, two.pos("bad_twin"))
    assert count(await session.counts(), "bad_twin") == 2


async def test_an_edit_re_arms_the_document(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "edit", "bad_edit = 1\n")
    await session.ask(doc.uri, doc.pos("bad_edit"))
    await session.ask(doc.uri, doc.pos("bad_edit"))
    assert count(await session.counts(), "bad_edit") == 1
    session.change(doc.uri, "bad_edit = 2\n", version=2)
    response = await session.ask(doc.uri, doc.pos("bad_edit"))
    assert response["error"]["code"] == -32603  # asked again, failed again
    assert count(await session.counts(), "bad_edit") == 2


async def test_reopen_with_other_text_re_arms(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "reopen", "bad_reopen = 1\n")
    await session.ask(doc.uri, doc.pos("bad_reopen"))
    session.notify("textDocument/didClose", {"textDocument": {"uri": doc.uri}})
    session.open(doc.uri, "bad_reopen = 3\n", version=5)
    await session.ask(doc.uri, doc.pos("bad_reopen"))
    assert count(await session.counts(), "bad_reopen") == 2


async def test_null_answer_is_not_a_failure(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "nulls", "none_here = 1\n")
    for _ in range(3):
        response = await session.ask(doc.uri, doc.pos("none_here"))
        assert response == {**NULL, "id": response["id"]}
    assert count(await session.counts(), "none_here") == 3


async def test_cancel_for_a_short_circuited_id_is_swallowed(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "cancel", "bad_cancel = 1\n")
    await session.ask(doc.uri, doc.pos("bad_cancel"))
    params = {"textDocument": {"uri": doc.uri}, "position": {"line": 0, "character": 1}}
    answered = await session.request("textDocument/definition", params, ident="cancel-me")
    assert answered == {**NULL, "id": "cancel-me"}
    session.notify("$/cancelRequest", {"id": "cancel-me"})
    state = await session.server_state()  # a round trip: the cancel was handled before it
    assert "cancel-me" not in state["cancelled"]
    assert not [m for _, m in session.received if m and m.get("id") == "cancel-me"][1:]


async def test_stats_counters_move(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "stats", "bad_stats = 1\ngood_stats = 2\n")
    before = await session.stats()
    assert set(before) >= {
        "forwarded",
        "short_circuited",
        "failures",
        "transient",
        "timeouts",
        "skipped",
        "tracked",
    }
    await session.ask(doc.uri, doc.pos("bad_stats"))
    await session.ask(doc.uri, doc.pos("bad_stats"))
    await session.ask(doc.uri, doc.pos("good_stats"))
    after = await session.stats()
    delta = {key: after[key] - before[key] for key in before if isinstance(before[key], int)}
    assert delta["tracked"] == 3
    assert delta["short_circuited"] == 1
    assert delta["failures"] == 1
    assert delta["timeouts"] == 0
    assert delta["skipped"] == 0
    assert delta["forwarded"] == 2  # bad_stats once (then short-circuited), good_stats once


async def test_concurrent_requests_on_one_failing_symbol(shared: tuple[Session, Path]) -> None:
    """Requests sent before the failure came back are asked once (the others follow the one
    in flight: coalesced) or short-circuited once it has failed; none is lost."""
    session, doc = await opened(shared, "burst", "bad_burst = 1\n")
    before = await session.stats()
    answers = await asyncio.gather(*(session.ask(doc.uri, doc.pos("bad_burst")) for _ in range(5)))
    after = await session.stats()
    assert all(("error" in a) != ("result" in a) for a in answers)
    moved = {k: after[k] - before[k] for k in ("forwarded", "coalesced", "short_circuited")}
    # Exactly one reached the server: the rest arrived while it was in flight (coalesced)
    # or after its failure (short-circuited, the symbol backing off for 5 s).
    assert moved["forwarded"] == 1, moved
    assert moved["coalesced"] + moved["short_circuited"] == 4, moved
    assert count(await session.counts(), "bad_burst") == 1
    # The server's error reached every request that was asked or followed one that was; the
    # rest were answered null at once.
    assert sum("error" in a for a in answers) == 1 + moved["coalesced"]
    assert sum(a.get("result", 0) is None for a in answers) == moved["short_circuited"]


async def test_transient_error_backs_off_at_base(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "busy", "busy_window = 1\n")
    first = await session.ask(doc.uri, doc.pos("busy_window"))
    assert first["error"]["code"] == -32801  # ContentModified, forwarded as is
    again = await session.ask(doc.uri, doc.pos("busy_window"))
    assert again == {**NULL, "id": again["id"]}
    assert count(await session.counts(), "busy_window") == 1


def utf16(doc: Doc, name: str, offset: int = 0) -> tuple[int, int]:
    """Position of `name` in UTF-16 code units (the default position encoding)."""
    line, index = doc.pos(name)
    prefix = doc.text.splitlines()[line][:index]
    return line, len(prefix.encode("utf-16-le")) // 2 + offset


async def test_positions_are_utf16_on_non_ascii_lines(shared: tuple[Session, Path]) -> None:
    # '😀' is 2 UTF-16 units, 'é' one: code-point and UTF-16 columns differ by one here.
    session, doc = await opened(shared, "utf16", 'x = "😀é"; bad_utf16 = 1\n')
    line, start = utf16(doc, "bad_utf16")
    first = await session.ask(doc.uri, (line, start))
    assert first["error"]["code"] == -32603  # the server found the identifier there
    last = await session.ask(doc.uri, (line, start + len("bad_utf16") - 1))
    assert last == {**NULL, "id": last["id"]}
    assert count(await session.counts(), "bad_utf16") == 1


async def test_incremental_change_keeps_identifiers_right(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "incremental", "x = 1\n")
    where = {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}}
    session.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": doc.uri, "version": 2},
            "contentChanges": [{"range": where, "text": "y = bad_incremental\n"}],
        },
    )
    await session.ask(doc.uri, (1, 5))
    for character in (4, 10, 4 + len("bad_incremental") - 1):
        response = await session.ask(doc.uri, (1, character))
        assert response == {**NULL, "id": response["id"]}
    assert count(await session.counts(), "bad_incremental") == 1


async def test_unopened_file_and_watched_file_change(shared: tuple[Session, Path]) -> None:
    session, root = shared
    doc = Doc(root / "unopened.py", "bad_unopened = 1\n")  # on disk only, never didOpen
    await session.ask(doc.uri, doc.pos("bad_unopened"))
    again = await session.ask(doc.uri, doc.pos("bad_unopened", 3))
    assert again == {**NULL, "id": again["id"]}
    assert count(await session.counts(), "bad_unopened") == 1
    doc.path.write_text("bad_unopened = 2\n")
    session.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": doc.uri, "type": 2}]})
    response = await session.ask(doc.uri, doc.pos("bad_unopened"))
    assert response["error"]["code"] == -32603
    assert count(await session.counts(), "bad_unopened") == 2


async def test_did_save_with_other_text_re_arms(shared: tuple[Session, Path]) -> None:
    session, doc = await opened(shared, "saved", "bad_saved = 1\n")
    await session.ask(doc.uri, doc.pos("bad_saved"))
    await session.ask(doc.uri, doc.pos("bad_saved"))
    assert count(await session.counts(), "bad_saved") == 1
    session.notify(
        "textDocument/didSave", {"textDocument": {"uri": doc.uri}, "text": "bad_saved = 9\n"}
    )
    await session.ask(doc.uri, doc.pos("bad_saved"))
    assert count(await session.counts(), "bad_saved") == 2


def call_item(doc: Doc, name: str) -> dict:
    line, character = doc.pos(name)
    where = {
        "start": {"line": line, "character": character},
        "end": {"line": line, "character": character + len(name)},
    }
    return {"name": name, "kind": 12, "uri": doc.uri, "range": where, "selectionRange": where}


async def test_call_hierarchy_items_are_keyed_like_identifiers(
    shared: tuple[Session, Path],
) -> None:
    session, doc = await opened(
        shared, "calls", "def f():\n    pass\n\ndef bad_callee():\n    f()\n"
    )
    incoming = "callHierarchy/incomingCalls"
    first = await session.request(incoming, {"item": call_item(doc, "bad_callee")})
    assert first["error"]["code"] == -32603
    again = await session.request(incoming, {"item": call_item(doc, "bad_callee")})
    assert again == {**NULL, "id": again["id"]}
    # outgoing calls are another operation; definition at the declaration another one again.
    outgoing = await session.request(
        "callHierarchy/outgoingCalls", {"item": call_item(doc, "bad_callee")}
    )
    assert outgoing["error"]["code"] == -32603
    counts = await session.counts()
    assert count(counts, "bad_callee", incoming) == 1
    assert count(counts, "bad_callee", "callHierarchy/outgoingCalls") == 1
