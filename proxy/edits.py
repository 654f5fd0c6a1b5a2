"""What an edit changed: the lines it touched, the names it added or removed, and its line map.

Given a document's text before and after an edit (issue 24), :func:`compare` returns an
:class:`Edit`:
- ``blocks``: runs of lines the edit left alone, as (old line, new line, count) — the line map
  (``tracker.moves.LineMap``) that moves stored positions instead of asking again;
- ``names``: the identifiers whose occurrences in *code* the edit added or removed — what the
  name rule re-arms (tracker/staleness.py), instead of every word of the text around the edit;
- ``holes``: the occurrences of those names in untouched old lines: an answer pointing at one
  is stale even though its line did not change (a second ``def foo`` added below makes the first
  one's definition answers wrong).

Lines are compared with difflib (no junk heuristic: a blank line is a line like any other). A
line counts as touched when its text changed, or when its text is the same but what it *is*
changed (a ``\"\"\"`` typed above turns the code below into a string): each line has a
signature — its code tokens — and equal lines with different signatures are touched too.

What counts as code (the language's own tokenizer decides; a line alone cannot tell whether it
lies inside a triple-quoted string, so the whole text is tokenized, once per side):
- **Python** (``tokenize``): comments are not code, except ``# type:`` comments (type checkers
  read them); a string that is a statement by itself (a docstring, a bare string) is not code;
  every other string is (annotations written as strings, ``__all__`` entries, ``getattr``
  names, f-strings — whose identifiers all count); the indentation of a line starting a
  statement is code (it decides scope). A text that does not tokenize (mid-edit) is judged
  line by line as raw text, as below.
- **Every other language** (no tokenizer here): each word of a touched line counts, comments
  and strings included (the conservative side: a comment edit there re-arms its words) — and
  only while the touched lines are *inert*: without a character that opens or closes a comment
  or string in some language (quotes, ``/*``, ``#``, ``--``, ``<<``, a line starting ``=``).
  Otherwise untouched lines may have moved into or out of a comment, so the whole document is
  touched (nothing moves; every word of both texts is named: the rule before issue 24).

Names: per touched block, when both sides have the same shape (the code with identifiers taken
out) only the identifiers whose counts differ are named (``foo(a)`` → ``foo(b)`` names ``a`` and
``b``); otherwise every identifier of the block's code on both sides is (a reindented or
restructured block can change what any of its names means).

What the name rule cannot see (the approximation the project's cross-file rule already makes,
now also applied to the untouched lines of the edited file): an edit that changes what an
unchanged name resolves to without mentioning it — ``class A(B)`` becoming ``class A(C)``
changes what ``a.foo`` on an untouched line refers to, and only ``B`` and ``C`` are named.

Pure functions, CPU only: callers run them off the event loop (the watch loop in a thread, an
editor's session on the store's writer thread).
"""

from __future__ import annotations

import difflib
import io
import keyword
import re
import tokenize
from collections import Counter
from dataclasses import dataclass, field

#: An identifier as most languages spell one (the same as proxy/mentions.py).
IDENTIFIER = re.compile(r"\b[^\W\d]\w*")

#: Python's reserved words: they name no symbol (an edit adding `return` names nothing by it).
_KEYWORDS = frozenset(keyword.kwlist)
#: Python file extensions judged by Python's tokenizer.
PYTHON = (".py", ".pyi")

Signature = tuple[str, ...]

#: Characters that open or close a comment or string in some language (see _inert).
_DELIMITERS = re.compile(r"[\"'`/*#<\\-]")


@dataclass(frozen=True)
class Edit:
    #: Untouched runs: (first old line, first new line, number of lines).
    blocks: tuple[tuple[int, int, int], ...]
    #: Identifiers added or removed in code.
    names: frozenset[str]
    #: Old line -> (start, end) code-point spans of named identifiers on untouched lines.
    holes: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    #: Old lines touched (for the figures and tests).
    touched: int = 0


#: Per language, the members a class's name reaches without spelling them: Python's
#: ``Square(1.0)`` is a reference of ``Square.__init__`` (and ``__new__``) to the servers.
IMPLICIT_MEMBERS = {"python": ("__init__", "__new__")}


def implicit_members(uri: str) -> tuple[str, ...]:
    return IMPLICIT_MEMBERS["python"] if is_python(uri) else ()


def is_python(uri: str) -> bool:
    return uri.split("?", 1)[0].lower().endswith(PYTHON)


def compare(old: str, new: str, uri: str = "") -> Edit:
    """The edit from `old` to `new` (`uri` picks the language's rules)."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    python = is_python(uri)
    old_sig = signatures(old, len(old_lines)) if python else None
    new_sig = signatures(new, len(new_lines)) if python else None
    if old_sig is None or new_sig is None:
        old_sig = new_sig = None  # judge both sides alike
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    opcodes = matcher.get_opcodes()
    if old_sig is None and not all(
        _inert(old_lines[i1:i2]) and _inert(new_lines[j1:j2])
        for tag, i1, i2, j1, j2 in opcodes
        if tag != "equal"
    ):
        # No tokenizer judged the texts, and the touched lines may have opened or closed a
        # comment or string around untouched ones: the whole document is touched.
        everything = set(IDENTIFIER.findall(old)) | set(IDENTIFIER.findall(new))
        if python:
            everything -= _KEYWORDS
        return Edit((), frozenset(everything), {}, len(old_lines))
    blocks: list[tuple[int, int, int]] = []
    names: set[str] = set()
    touched = 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            # Same text; still touched where what it is changed (inside a string now, …).
            run = None
            for k in range(i2 - i1):
                same = old_sig is None or new_sig is None or old_sig[i1 + k] == new_sig[j1 + k]
                if same:
                    if run is None:
                        run = [i1 + k, j1 + k, 0]
                    run[2] += 1
                    continue
                if run is not None:
                    blocks.append((run[0], run[1], run[2]))
                    run = None
                touched += 1
                names |= _block_names(
                    old_lines[i1 + k : i1 + k + 1], old_sig, i1 + k,
                    new_lines[j1 + k : j1 + k + 1], new_sig, j1 + k,
                )  # fmt: skip
            if run is not None:
                blocks.append((run[0], run[1], run[2]))
            continue
        touched += i2 - i1
        names |= _block_names(old_lines[i1:i2], old_sig, i1, new_lines[j1:j2], new_sig, j1)
    if python:
        names -= _KEYWORDS  # never a symbol's name; soft keywords (match, type) stay
    holes = _holes(old_lines, blocks, names, old_sig) if names else {}
    return Edit(tuple(blocks), frozenset(names), holes, touched)


def signatures(text: str, lines: int) -> list[Signature] | None:
    """Per line of a Python text, its code tokens (a string token's text counted on the line
    it starts on; the indentation of a line starting a statement first); None when the text
    does not tokenize."""
    sig: list[list[str]] = [[] for _ in range(max(lines, 1) + 1)]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    statement_start = True  # the next significant token starts a logical line
    for index, tok in enumerate(tokens):
        kind, string, (row, col), _end, line = tok
        if row - 1 >= len(sig):
            continue
        if kind in (tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if kind == tokenize.NEWLINE:
            statement_start = True
            continue
        if kind == tokenize.COMMENT:
            if re.match(r"#\s*type:", string):
                sig[row - 1].append(string)
            continue
        if kind == tokenize.STRING and statement_start and _statement_ends(tokens, index + 1):
            statement_start = False
            continue  # a docstring or bare string statement: no code
        if statement_start:
            sig[row - 1].append("\t" + line[:col])  # the indentation decides scope
        statement_start = False
        sig[row - 1].append(string)
    return [tuple(s) for s in sig]


def _statement_ends(tokens: list[tokenize.TokenInfo], at: int) -> bool:
    for tok in tokens[at:]:
        if tok.type in (tokenize.COMMENT, tokenize.NL):
            continue
        return tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
    return True


def _code(lines: list[str], sig: list[Signature] | None, first: int) -> list[str]:
    """The code of a block: its signatures' tokens, or its raw lines when not judged."""
    if sig is None:
        return lines
    return [token for k in range(len(lines)) for token in sig[first + k]]


def _block_names(
    old: list[str],
    old_sig: list[Signature] | None,
    i: int,
    new: list[str],
    new_sig: list[Signature] | None,
    j: int,
) -> set[str]:
    before = Counter(w for part in _code(old, old_sig, i) for w in IDENTIFIER.findall(part))
    after = Counter(w for part in _code(new, new_sig, j) for w in IDENTIFIER.findall(part))
    if _shape(old, old_sig, i) == _shape(new, new_sig, j):
        return {w for w in before | after if before[w] != after[w]}
    return set(before) | set(after)


def _shape(lines: list[str], sig: list[Signature] | None, first: int) -> list[str]:
    # Whitespace stays: indentation is code in Python (and unknown elsewhere).
    return [IDENTIFIER.sub("", part) for part in _code(lines, sig, first)]


def _inert(lines: list[str]) -> bool:
    """Can these lines, typed or deleted, change how the lines around them are cut into
    comments, strings and code? Not without one of the characters that open or close those in
    some language (quotes, ``/*``, ``#``, ``--``, ``<<`` heredocs, ``(*``, ``{-``) or a line
    starting with ``=`` (Ruby's ``=begin``)."""
    return not any(_DELIMITERS.search(line) or line.startswith("=") for line in lines)


def _holes(
    old_lines: list[str],
    blocks: list[tuple[int, int, int]],
    names: set[str],
    old_sig: list[Signature] | None,
) -> dict[int, tuple[tuple[int, int], ...]]:
    holes: dict[int, tuple[tuple[int, int], ...]] = {}
    for start, _new, count in blocks:
        for line in range(start, start + count):
            text = old_lines[line]
            if old_sig is not None and not old_sig[line]:
                continue  # no code on it: nothing there can be an answer's target
            spans = tuple(m.span() for m in IDENTIFIER.finditer(text) if m.group() in names)
            if spans:
                holes[line] = spans
    return holes
