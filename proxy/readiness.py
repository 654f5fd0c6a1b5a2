"""Is the server still loading? Read from its progress and status notifications.

``busy``: an unfinished ``$/progress`` (begin without end — types/workDoneProgress.md) or a
last ``experimental/serverStatus`` with ``quiescent: false`` (rust-analyzer's extension).
``ready``: not busy, and the server has signalled readiness at least once (a progress end, or
``quiescent: true``). A server that signals neither (pyright) is neither busy nor ready: the
tracker then asks for a confirming repeat before it takes an empty answer as definitive.

Progress that is a request's own ("Finding references…") is not loading: a token that began
after the request was sent is left out when judging that request's answer (``mark``/``busy``),
and so is a token the client itself handed the server as a request's ``workDoneToken``.
"""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache


class Readiness:
    def __init__(self) -> None:
        self._open: dict[Any, int] = {}  # token → the mark at its begin
        self._clock = 0  # counts progress begins; a request remembers the count at its send
        self._quiescent: bool | None = None
        self._signalled = False
        # Bounded: a server may never report on a token the client handed it.
        self._client_tokens: LRUCache[Any, None] = LRUCache(maxsize=1024)

    def mark(self) -> int:
        """A mark to pass to ``busy`` for a request sent now."""
        return self._clock

    def client_token(self, token: Any) -> None:
        """A workDoneToken the client put in a request: that request's progress, not loading."""
        if isinstance(token, int | str):
            self._client_tokens[token] = None

    def busy(self, since: int | None = None) -> bool:
        """Loading, judged for a request sent at mark ``since`` (None: at any time)."""
        if self._quiescent is False:
            return True
        if since is None:
            return bool(self._open)
        return any(begun <= since for begun in self._open.values())

    def ready(self, since: int | None = None) -> bool:
        """Signalled readiness once, and not busy (for a request sent at mark ``since``)."""
        return self._signalled and not self.busy(since)

    def progress(self, token: Any, value: Any) -> None:
        """A ``$/progress`` with ``token`` and (decoded) ``value``."""
        kind = value.get("kind") if isinstance(value, dict) else None
        if not isinstance(token, int | str):
            return  # not a ProgressToken (and maybe not hashable): nothing to learn
        if token in self._client_tokens:
            if kind == "end":
                self._client_tokens.pop(token, None)
            return
        if kind == "begin":
            self._clock += 1
            self._open[token] = self._clock
        elif kind == "end":
            self._open.pop(token, None)
            self._signalled = True

    def notification(self, method: str, message: dict[str, Any] | None) -> None:
        params = message.get("params") if message else None
        if not isinstance(params, dict):
            return
        if method == "$/progress":
            self.progress(params.get("token"), params.get("value"))
        elif method == "experimental/serverStatus":
            quiescent = params.get("quiescent")
            if isinstance(quiescent, bool):
                self._quiescent = quiescent
                self._signalled = self._signalled or quiescent
