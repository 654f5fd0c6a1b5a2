"""The proxy under pytest-lsp's client: server-to-client requests and the backoff window.

pytest-lsp re-serializes messages, so byte-level checks live in test_transparency.py.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from harness import REPO, SERVERS, Doc, plain
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

CAPABILITIES = types.ClientCapabilities(
    window=types.WindowClientCapabilities(work_done_progress=True),
    workspace=types.WorkspaceClientCapabilities(configuration=True),
)


def config(server: str, *opts: str) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=[
            sys.executable,
            "-m",
            "lsp_backoff",  # not `-m proxy`: from the checkout root that is a second copy
            *opts,
            "--",
            sys.executable,
            str(SERVERS / server),
        ],
    )


@pytest_lsp.fixture(config=config("asks_client.py", "--no-db"))
async def asks(lsp_client: LanguageClient) -> AsyncIterator[None]:
    lsp_client.set_configuration({"lspBackoffTest": {"answer": 42}})

    # pytest-lsp's client has no handler for this one; a real editor answers null.
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(_params: types.RegistrationParams) -> None:
        return None

    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=CAPABILITIES, root_uri=REPO.as_uri())
    )
    yield
    await lsp_client.shutdown_session()


async def test_server_to_client_requests_round_trip(asks: LanguageClient) -> None:
    answers = await asks.protocol.send_request_async("test/answers", {})
    answers = plain(answers)
    assert answers["configuration"] == {"result": [{"answer": 42}, None]}
    assert answers["progress"] == {"result": None}, answers
    assert answers["register"] == {"result": None}, answers
    # The progress notifications were sent before the answer to test/answers.
    assert "asks-client-token" in asks.progress_reports


@pytest_lsp.fixture(config=config("always_fails.py", "--no-db", "--backoff-base", "60"))
async def fails(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=CAPABILITIES, root_uri=REPO.as_uri())
    )
    yield
    await lsp_client.shutdown_session()


async def test_window_through_pytest_lsp(fails: LanguageClient, tmp_path: Path) -> None:
    doc = Doc(tmp_path / "plsp.py", "bad_plsp = 1\ngood_plsp = 2\n")
    fails.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=doc.uri, language_id="python", version=1, text=doc.text
            )
        )
    )
    position = types.Position(line=0, character=2)
    params = types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri), position=position
    )
    with pytest.raises(Exception, match="cannot resolve bad_plsp"):
        await fails.text_document_definition_async(params)
    assert await fails.text_document_definition_async(params) is None
    good = types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=doc.uri),
        position=types.Position(line=1, character=0),
    )
    result = await fails.text_document_definition_async(good)
    assert result is not None
    counts = await fails.protocol.send_request_async("test/counts", {})
    counts = dict(plain(counts)["pairs"])
    assert counts == {"textDocument/definition bad_plsp": 1, "textDocument/definition good_plsp": 1}
