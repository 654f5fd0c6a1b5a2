"""Issue 3's flows through a real pygls client: the backoff window, per-operation tracking,
re-arming on didChange, the timeout answer and the crash answer.

pytest-lsp re-serializes messages, so byte-level checks live in test_transparency.py; here the
point is that a typed client sees the answers an editor would see.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from harness import REPO, SERVERS, WAIT, Doc, plain
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

CAPABILITIES = types.ClientCapabilities(
    window=types.WindowClientCapabilities(work_done_progress=True),
)
TEXT = "bad_sym = 1\ngood_sym = 2\n"
REQUEST_FAILED = -32803


def config(server: str, *opts: str) -> ClientServerConfig:
    command = [sys.executable, "-m", "lsp_backoff", "--no-db", *opts]
    return ClientServerConfig(
        server_command=[*command, "--", sys.executable, str(SERVERS / server)],
    )


async def begin(client: LanguageClient) -> None:
    await client.initialize_session(
        types.InitializeParams(capabilities=CAPABILITIES, root_uri=REPO.as_uri())
    )


def open_doc(client: LanguageClient, path: Path, text: str = TEXT) -> Doc:
    doc = Doc(path, text)
    item = types.TextDocumentItem(uri=doc.uri, language_id="python", version=1, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    return doc


def at(doc: Doc, name: str, offset: int = 0) -> tuple[types.TextDocumentIdentifier, types.Position]:
    line, character = doc.pos(name, offset)
    return types.TextDocumentIdentifier(uri=doc.uri), types.Position(line=line, character=character)


def definition(client: LanguageClient, doc: Doc, name: str, offset: int = 0) -> Any:
    text_document, position = at(doc, name, offset)
    params = types.DefinitionParams(text_document=text_document, position=position)
    return client.text_document_definition_async(params)


def references(client: LanguageClient, doc: Doc, name: str) -> Any:
    text_document, position = at(doc, name)
    context = types.ReferenceContext(include_declaration=True)
    params = types.ReferenceParams(text_document=text_document, position=position, context=context)
    return client.text_document_references_async(params)


async def server_state(client: LanguageClient) -> dict[str, Any]:
    state = plain(await client.protocol.send_request_async("test/counts", {}))
    state["pairs"] = dict(state["pairs"])
    return state


async def asked(client: LanguageClient) -> dict[str, int]:
    return (await server_state(client))["pairs"]


async def sent(request: Any) -> asyncio.Task[Any]:
    """Start a typed request and return once it is written (one loop step), still pending."""
    task = asyncio.ensure_future(request)
    await asyncio.sleep(0)
    return task


async def server_saw(client: LanguageClient, key: str) -> dict[str, Any]:
    """Poll the server's record (bounded) until `key` is true of it."""
    async with asyncio.timeout(WAIT):
        while not (state := await server_state(client))[key]:
            await asyncio.sleep(0.05)
        return state


@pytest_lsp.fixture(config=config("always_fails.py", "--backoff-base", "60"))
async def fails(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await begin(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_failure_is_forwarded_then_short_circuited(fails: LanguageClient, tmp_path: Path):
    doc = open_doc(fails, tmp_path / "window.py")
    with pytest.raises(JsonRpcException, match="cannot resolve bad_sym") as first:
        await definition(fails, doc, "bad_sym")
    assert first.value.code == types.ErrorCodes.InternalError
    # Another position inside the same identifier is the same symbol: inside the window.
    assert await definition(fails, doc, "bad_sym", offset=5) is None
    assert await asked(fails) == {"textDocument/definition bad_sym": 1}
    stats = plain(await fails.protocol.send_request_async("lspBackoff/stats", {}))
    assert stats["short_circuited"] == 1, stats


async def test_references_are_tracked_apart(fails: LanguageClient, tmp_path: Path):
    doc = open_doc(fails, tmp_path / "apart.py")
    with pytest.raises(JsonRpcException, match="cannot resolve bad_sym"):
        await definition(fails, doc, "bad_sym")
    # The definition's backoff says nothing about references: they still reach the server.
    with pytest.raises(JsonRpcException, match="cannot resolve bad_sym"):
        await references(fails, doc, "bad_sym")
    assert await asked(fails) == {
        "textDocument/definition bad_sym": 1,
        "textDocument/references bad_sym": 1,
    }


async def test_success_never_backs_off(fails: LanguageClient, tmp_path: Path):
    doc = open_doc(fails, tmp_path / "good.py")
    for offset in (0, 3, 0):
        result = await definition(fails, doc, "good_sym", offset)
        assert isinstance(result, types.Location), result
        assert result.uri == doc.uri
    assert await asked(fails) == {"textDocument/definition good_sym": 3}


async def test_did_change_rearms_the_failed_symbol(fails: LanguageClient, tmp_path: Path):
    doc = open_doc(fails, tmp_path / "rearm.py")
    with pytest.raises(JsonRpcException, match="cannot resolve bad_sym"):
        await definition(fails, doc, "bad_sym")
    assert await definition(fails, doc, "bad_sym") is None
    assert await asked(fails) == {"textDocument/definition bad_sym": 1}

    changed = Doc(doc.path, TEXT + "other = 3\n")
    fails.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc.uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=changed.text)],
        )
    )
    with pytest.raises(JsonRpcException, match="cannot resolve bad_sym"):
        await definition(fails, changed, "bad_sym")
    assert await asked(fails) == {"textDocument/definition bad_sym": 2}


@pytest_lsp.fixture(config=config("hangs.py", "--timeout", "0.5"))
async def hangs(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await begin(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_timeout_answers_request_failed_and_cancels(hangs: LanguageClient, tmp_path: Path):
    doc = open_doc(hangs, tmp_path / "hang.py", "hang_sym = 1\n")
    before = set(hangs.protocol._request_futures)
    request = await sent(definition(hangs, doc, "hang_sym"))
    # The request's id is the one new pending future.
    (request_id,) = set(hangs.protocol._request_futures) - before
    with pytest.raises(JsonRpcException) as error:
        await asyncio.wait_for(request, WAIT)
    assert error.value.code == REQUEST_FAILED
    assert "textDocument/definition timed out" in error.value.message
    state = await server_saw(hangs, "cancelled")
    assert state["cancelled"] == [request_id]
    assert state["pairs"] == {"textDocument/definition hang_sym": 1}


@pytest_lsp.fixture(config=config("crashes_mid_request.py"))
async def crashes(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await begin(lsp_client)
    yield
    # No shutdown: the server, and so the proxy, are gone. If the test failed before the crash,
    # end the proxy here, as client.stop() waits for it to exit and never closes its stdin.
    proxy = lsp_client._server
    if proxy is not None and proxy.returncode is None:
        proxy.terminate()


async def test_crash_fails_pending_requests(crashes: LanguageClient, tmp_path: Path):
    doc = open_doc(crashes, tmp_path / "crash.py", "hang_sym = 1\ncrash_sym = 2\n")
    pending = await sent(definition(crashes, doc, "hang_sym"))
    state = await server_saw(crashes, "pairs")
    assert state["pairs"] == {"textDocument/definition hang_sym": 1}
    crash = await sent(definition(crashes, doc, "crash_sym"))
    for request in (pending, crash):
        with pytest.raises(JsonRpcException) as error:
            await asyncio.wait_for(request, WAIT)
        assert error.value.code == REQUEST_FAILED
        assert "server exited (status 3) before answering textDocument/definition" in (
            error.value.message
        )
    # The proxy exits with the server's status.
    proxy = crashes._server
    assert proxy is not None
    assert await asyncio.wait_for(proxy.wait(), WAIT) == 3
