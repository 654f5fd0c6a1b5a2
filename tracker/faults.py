"""FaultWatch: tell a fault of the whole server from a failure of one subject.

The rule (README, "Server faults"): when ``threshold`` distinct subjects in a row fail one
operation with the same error (its *signature*: code and message, as the caller writes it), and
no answer of that operation came between, the operation is at fault, not the subjects. The
caller then undoes what the run charged — it hands in an ``undo`` token with each charge and gets
the run's tokens back when the run becomes a fault — and charges no subject while the fault
lasts: a failure with the fault's signature is *spared*. Any answer of the operation (an empty
one too) ends the run and the fault: the operation works again. A failure with another error
breaks the run (it is not "the same error") and is charged as usual.

It does not: talk LSP, decide what a failure is, touch the failure tracker or the store (the
caller undoes through its tokens), read a clock or log — the caller logs the one line.
State is per operation: a handful of entries, one run each.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

#: Distinct subjects failing in a row with one error before it is the server's. 5: a symbol's
#: own failures rarely repeat one message across five symbols in a row with no answer between
#: (messages usually name the symbol); a server-wide fault (basedpyright's broken references)
#: fails every one with the same words.
THRESHOLD = 5


class Ruling(enum.Enum):
    CHARGE = "charge"  # a subject's failure: back it off as usual
    SPARE = "spare"  # the operation is at fault with this very error: charge nobody


@dataclass
class _Run(Generic[T]):
    signature: str
    #: subject → the token that undoes its charge (the first one: the state before the run).
    undo: dict[str, T] = field(default_factory=dict)


class FaultWatch(Generic[T]):
    def __init__(self, threshold: int = THRESHOLD) -> None:
        if threshold < 2:
            raise ValueError(f"threshold must be >= 2, got {threshold!r}")
        self.threshold = threshold
        self._runs: dict[str, _Run[T]] = {}
        self._faults: dict[str, str] = {}  # operation → the fault's signature
        #: Called with (operation, signature) when a run becomes a fault (a restart, say).
        self.on_fault: Callable[[str, str], None] | None = None

    def at_fault(self) -> dict[str, str]:
        """operation → signature, for every operation at fault now."""
        return dict(self._faults)

    def failed(self, operation: str, signature: str) -> Ruling:
        """Is this failure a subject's (CHARGE, then call ``charged``) or the fault's (SPARE)?"""
        return Ruling.SPARE if self._faults.get(operation) == signature else Ruling.CHARGE

    def charged(self, operation: str, subject: str, signature: str, undo: T) -> list[T]:
        """The caller charged ``subject``; ``undo`` reverts that. Returns every token of the run
        when this charge makes it a fault (the caller undoes them), else an empty list."""
        run = self._runs.get(operation)
        if run is None or run.signature != signature:
            run = self._runs[operation] = _Run(signature)
        run.undo.setdefault(subject, undo)
        if len(run.undo) < self.threshold:
            return []
        del self._runs[operation]
        self._faults[operation] = signature
        if self.on_fault is not None:
            self.on_fault(operation, signature)
        return list(run.undo.values())

    def reset(self) -> None:
        """Forget every run and fault (a new server: it is judged afresh)."""
        self._runs.clear()
        self._faults.clear()

    def answered(self, operation: str) -> str | None:
        """An answer of ``operation``: no run goes on; returns the signature of the fault this
        ends, if one was on."""
        self._runs.pop(operation, None)
        return self._faults.pop(operation, None)
