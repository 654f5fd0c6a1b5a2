"""Is the server still loading? Read from its progress and status notifications.

``busy``: an unfinished ``$/progress`` (begin without end — types/workDoneProgress.md) or a
last ``experimental/serverStatus`` with ``quiescent: false`` (rust-analyzer's extension).
``ready``: not busy, and the server has signalled readiness at least once (a progress end, or
``quiescent: true``). A server that signals neither (pyright) is neither busy nor ready: the
tracker then asks for a confirming repeat before it takes an empty answer as definitive.
"""

from __future__ import annotations

from typing import Any


class Readiness:
    def __init__(self) -> None:
        self._open: set[Any] = set()
        self._quiescent: bool | None = None
        self._signalled = False

    @property
    def busy(self) -> bool:
        return bool(self._open) or self._quiescent is False

    @property
    def ready(self) -> bool:
        return self._signalled and not self.busy

    def notification(self, method: str, message: dict[str, Any] | None) -> None:
        params = message.get("params") if message else None
        if not isinstance(params, dict):
            return
        if method == "$/progress":
            value = params.get("value")
            kind = value.get("kind") if isinstance(value, dict) else None
            token = params.get("token")
            if not isinstance(token, int | str):
                return
            if kind == "begin":
                self._open.add(token)
            elif kind == "end":
                self._open.discard(token)
                self._signalled = True
        elif method == "experimental/serverStatus":
            quiescent = params.get("quiescent")
            if isinstance(quiescent, bool):
                self._quiescent = quiescent
                self._signalled = self._signalled or quiescent
