"""Readiness from $/progress and experimental/serverStatus."""

from __future__ import annotations

from typing import Any

from lsp_backoff.proxy.readiness import Readiness


def progress(token: Any, kind: str) -> dict[str, Any]:
    return {"params": {"token": token, "value": {"kind": kind}}}


def test_a_server_that_says_nothing_is_neither_busy_nor_ready() -> None:
    r = Readiness()
    assert not r.busy() and not r.ready()


def test_open_progress_is_busy_and_its_end_signals_readiness() -> None:
    r = Readiness()
    r.notification("$/progress", progress("index", "begin"))
    assert r.busy() and not r.ready()
    r.notification("$/progress", progress("index", "report"))
    assert r.busy()
    r.notification("$/progress", progress("index", "end"))
    assert not r.busy() and r.ready()


def test_progress_begun_after_a_request_was_sent_is_that_requests_own() -> None:
    r = Readiness()
    r.notification("$/progress", progress("loading", "begin"))
    before = r.mark()
    r.notification("$/progress", progress("loading", "end"))
    sent = r.mark()
    r.notification("$/progress", progress("finding references", "begin"))
    assert not r.busy(sent)  # only its own progress is open
    assert r.busy(before + 1) and r.busy()  # any-time view still sees it


def test_client_work_done_tokens_are_not_loading() -> None:
    r = Readiness()
    r.client_token("req-1")
    r.notification("$/progress", progress("req-1", "begin"))
    assert not r.busy()
    r.notification("$/progress", progress("req-1", "end"))
    assert not r.ready()  # a request's own progress says nothing about readiness either


def test_server_status_quiescence() -> None:
    r = Readiness()
    r.notification("experimental/serverStatus", {"params": {"quiescent": False, "health": "ok"}})
    assert r.busy(0) and not r.ready()
    r.notification("experimental/serverStatus", {"params": {"quiescent": True, "health": "ok"}})
    assert not r.busy() and r.ready()


def test_malformed_notifications_change_nothing() -> None:
    r = Readiness()
    for message in (
        None,
        {},
        {"params": 3},
        {"params": {"token": [1], "value": {"kind": "begin"}}},
    ):
        r.notification("$/progress", message)
        r.notification("experimental/serverStatus", message)
    assert not r.busy() and not r.ready()
