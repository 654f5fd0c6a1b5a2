"""How deep a JSON body nests, found without a recursive decoder; and a shallow copy of it.

msgspec (like every JSON decoder in the standard library) recurses once per ``[`` or ``{``: a
body nested a few thousand levels deep raises RecursionError, or with a large enough stack
overflows it. ``deeper_than`` answers "could this body nest deeper than N?" with a handful of
C-speed passes over the bytes (``bytes.translate``/``replace``/``count``) and no Python loop
per byte; ``shallow_copy`` rebuilds a body with every container below the top level emptied,
so a too-deep message can still be classified by its ``id`` and ``method``.

Neither validates JSON: on a broken body they err towards "too deep" and a copy the decoder
rejects, which is what the decoder would have said of the original.
"""

from __future__ import annotations

import functools
import re

#: Deeper than this, a body is never handed to a recursive decoder. Real LSP messages stay far
#: below it (a documentSymbol tree nests 2 levels per symbol level; selectionRange chains are
#: the deepest seen, ~100); Python's default recursion limit is 1000.
MAX_DEPTH = 512

_KEEP = b'[]{}"'
#: Every byte but brackets and quotes: deleted by translate, leaving the structure.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _KEEP)


def structure(body: bytes) -> bytes:
    """The brackets of ``body`` that are outside strings, in order."""
    # Escapes first, so that every quote left delimits a string: `\\` pairs from the left as
    # JSON pairs them, then `\"` is an escaped quote. (Outside strings a backslash is not
    # JSON at all; the decoder stops there, so what follows does not matter.)
    if b"\\" in body:  # memchr: most bodies have no escape at all
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    seq = body.translate(None, _NOT_STRUCTURE)
    # Adjacent quotes are an empty string or the gap between two strings: either way no
    # bracket lies between them, and dropping a pair keeps every later quote's parity.
    seq = seq.replace(b'""', b"")
    if b'"' in seq:  # some string holds brackets: drop what lies between quote pairs
        seq = b"".join(seq.split(b'"')[::2])
    return seq


def _opens(seq: bytes) -> int:
    return seq.count(b"[") + seq.count(b"{")


def deeper_than(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True if a recursive decoder could go more than ``limit`` levels deep on ``body``.

    Exact up to ``limit // 2``; between that and ``limit`` it may say True of a body that is
    not quite that deep (a conservative answer: such a body is then treated as too deep).
    """
    if _opens(body) <= limit:  # strings only add to this count: the usual quick answer
        return False
    seq = structure(body)
    run = _opens_run(limit)
    rounds = 0
    while True:
        # Each round deletes every innermost `[]`, then every innermost `{}`: the depth drops
        # by 1 or 2, so the body nests at most 2·rounds + (opening brackets left) deep.
        if 2 * rounds + _opens(seq) <= limit:
            return False
        if run.search(seq) or 2 * (rounds + 1) > limit:
            # Consecutive opening brackets nest, so that run alone is too deep; or the rounds
            # can no longer prove the body shallow.
            return True
        shorter = seq.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(seq):
            return True  # unbalanced and bracket-heavy: not JSON, and not for the decoder
        seq = shorter
        rounds += 1


@functools.cache
def _opens_run(limit: int) -> re.Pattern[bytes]:
    return re.compile(rb"[\[{]{%d}" % (limit + 1))


#: Every byte but brackets and quotes becomes a space: positions stay those of the body.
_BLANK = bytes(b if b in _KEEP else 32 for b in range(256))
# Runs of opening (or of closing) brackets, spaces allowed in between: `{"a":{"a":` blanked is
# one run, so a deep body is a few tokens, not one per level.
_RUNS = re.compile(rb"[\[{][\[{ ]*|[\]}][\]} ]*")


def _bracket_map(body: bytes) -> bytes:
    """``body`` with everything but the brackets outside strings turned into spaces."""
    if b"\\" in body:  # escapes as in ``structure``, keeping the length
        body = body.replace(b"\\\\", b"  ").replace(b'\\"', b"  ")
    blank = body.translate(_BLANK)
    if b'"' not in blank:
        return blank
    parts = blank.split(b'"')
    parts[1::2] = [b" " * len(part) for part in parts[1::2]]  # inside strings
    return b" ".join(parts)


def shallow_copy(body: bytes) -> bytes:
    """``body`` with every container inside the top-level object emptied (``[]`` / ``{}``).

    The top level is copied byte for byte, so its scalar members (``id``, ``method``) and
    anything broken there decode as in the original; a container value keeps its type. Empty
    bytes when the body is not one object with balanced brackets. Linear in the body's size;
    a Python step per run of brackets (only bodies found too deep come here).
    """
    brackets = _bracket_map(body)
    pieces: list[bytes] = []
    depth = 0
    last = 0  # body[last:cut] is copied next
    cut = 0  # where the nested container being skipped starts
    for match in _RUNS.finditer(brackets):
        run = match.group().rstrip()
        start = match.start()
        count = len(run) - run.count(b" ")
        if run[0] in b"[{":
            if depth == 0:
                if run[0] != 123 or body[:start].strip():
                    return b""  # not an object (LSP has no batches)
                depth, count = 1, count - 1
                if not count:
                    continue
                start += len(run) - len(run[1:].lstrip())  # the next opening bracket
            if depth == 1:
                cut = start
            depth += count
            continue
        if depth >= 2 and depth - count <= 1:
            # The nested container closes inside this run: the top level up to it, then an
            # empty container of its type.
            end = start + _nth_bracket(run, depth - 1) + 1
            pieces += (body[last:cut], b"[]" if body[cut] == 91 else b"{}")
            last = end
            count -= depth - 1
            depth = 1
        depth -= count
        if depth < 0:
            return b""
        if depth == 0:
            pieces.append(body[last:])
            return b"".join(pieces)
    return b""


def _nth_bracket(run: bytes, n: int) -> int:
    """Index in ``run`` of its n-th bracket (1-based); spaces are not brackets."""
    if b" " not in run:
        return n - 1
    seen = 0
    for index, byte in enumerate(run):
        if byte != 32:
            seen += 1
            if seen == n:
                return index
    raise AssertionError("a run holds fewer brackets than it counted")
