"""Which text at a position is a symbol's name: one table of identifier rules per language.

A symbol's key is its document's URI plus the start and text of the identifier at a position
(``proxy.documents.symbol_key``), so every path that names a symbol — a request position, a
documentSymbol or workspace/symbol entry, a call hierarchy item — must cut the same identifier
out of the same text. This module is that cut: :func:`span_at` tokenizes a line left to right
with the rules of the document's language and returns the token containing a position (else the
one ending exactly at it). Servers' display names (``Arena::Allocate``, ``Ky.#retry``) never
enter here: they are labels, not identity.

The base everywhere is Unicode XID (UAX #31, what ``str.isidentifier`` implements): a token is
a run of XID_Continue characters (so a number is keyed by its text, as before), plus per
language:

- ``extra``: characters that start and continue identifiers (``$`` in JavaScript, ``-`` in CSS
  and Lisps, most operator characters in Lisps);
- ``prefixes``: sigils that belong to the name when an identifier follows (``#private``,
  ``r#type``, ``@ivar``, ``$var``);
- ``suffixes``: one of these may end a name (Ruby ``empty?``, ``save!``), except before ``=``
  (``a!=b``);
- ``destructors``: ``~Name`` is one name when ``(`` follows (C++: a destructor; ``~x`` alone is
  the bitwise not of ``x``);
- ``operators``: ``operator`` with its operator token is one name (C++ ``operator==``,
  ``operator()``, ``operator new``).

Pure functions; no I/O. docs/identity.md documents the table.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass

__all__ = ["LANGUAGES", "RULES", "Rules", "rules_for", "span_at", "span_within"]


@dataclass(frozen=True, slots=True)
class Rules:
    extra: str = ""
    prefixes: tuple[str, ...] = ()  # longest first
    suffixes: str = ""
    continue_extra: str = ""  # continue but never start a name (Haskell's foldl')
    destructors: bool = False
    operators: bool = False


#: Rule sets by family; LANGUAGES maps LSP languageIds (spec 3.17, TextDocumentItem) to them.
RULES: dict[str, Rules] = {
    "default": Rules(extra="$"),  # what the proxy always did for unknown languages
    "python": Rules(),
    "c-family": Rules(destructors=True, operators=True),  # C, C++, Objective-C, CUDA
    "rust": Rules(prefixes=("r#",)),
    "javascript": Rules(extra="$", prefixes=("#",)),  # TypeScript, JSX, TSX too
    "go": Rules(),
    "java": Rules(extra="$"),  # Kotlin, Scala, Groovy, Dart: `$` is legal in names
    "csharp": Rules(prefixes=("@",)),  # @class: a keyword used as a name
    "ruby": Rules(prefixes=("@@", "@", "$"), suffixes="?!"),
    "elixir": Rules(suffixes="?!"),
    "php": Rules(prefixes=("$",)),
    "lisp": Rules(extra="-*+!?<>=/%&^~$"),  # with-open-file, *globals*, set!, ->, 1+
    "css": Rules(extra="-"),  # --custom-property, -webkit-box, font-size
    "scss": Rules(extra="-", prefixes=("$",)),
    "less": Rules(extra="-", prefixes=("@",)),
    "ml": Rules(continue_extra="'"),  # Haskell, OCaml, Elm, PureScript: foldl', x'
    "shell": Rules(extra="-"),  # function names like my-func
}

LANGUAGES: dict[str, str] = {
    **dict.fromkeys(("python",), "python"),
    **dict.fromkeys(("c", "cpp", "objective-c", "objective-cpp", "cuda", "cuda-cpp"), "c-family"),
    "rust": "rust",
    **dict.fromkeys(
        ("javascript", "typescript", "javascriptreact", "typescriptreact", "vue", "svelte"),
        "javascript",
    ),
    "go": "go",
    **dict.fromkeys(("java", "kotlin", "scala", "groovy", "dart"), "java"),
    "csharp": "csharp",
    "ruby": "ruby",
    "elixir": "elixir",
    "php": "php",
    **dict.fromkeys(
        ("lisp", "commonlisp", "scheme", "racket", "clojure", "emacs-lisp", "elisp", "fennel"),
        "lisp",
    ),
    "css": "css",
    "scss": "scss",
    "sass": "scss",
    "less": "less",
    **dict.fromkeys(("haskell", "ocaml", "elm", "purescript", "fsharp"), "ml"),
    **dict.fromkeys(("shellscript", "bash", "sh", "zsh"), "shell"),
}

#: File extension -> languageId, for documents whose languageId the proxy never saw (read from
#: disk, or opened with an id missing from LANGUAGES).
EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
    ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".inl": "cpp",
    ".m": "objective-c", ".mm": "objective-cpp", ".cu": "cuda", ".cuh": "cuda",
    ".rs": "rust",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascriptreact",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "typescriptreact",
    ".vue": "vue", ".svelte": "svelte",
    ".go": "go",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".groovy": "groovy",
    ".dart": "dart", ".cs": "csharp",
    ".rb": "ruby", ".rake": "ruby", ".ex": "elixir", ".exs": "elixir", ".php": "php",
    ".lisp": "commonlisp", ".cl": "commonlisp", ".lsp": "commonlisp", ".scm": "scheme",
    ".ss": "scheme", ".rkt": "racket", ".clj": "clojure", ".cljs": "clojure",
    ".cljc": "clojure", ".edn": "clojure", ".el": "emacs-lisp", ".fnl": "fennel",
    ".css": "css", ".scss": "scss", ".sass": "sass", ".less": "less",
    ".hs": "haskell", ".ml": "ocaml", ".mli": "ocaml", ".elm": "elm", ".purs": "purescript",
    ".fs": "fsharp", ".fsx": "fsharp",
    ".sh": "shellscript", ".bash": "shellscript", ".zsh": "shellscript",
}  # fmt: skip

#: C++ operator tokens after ``operator`` (longest first, so ``<<=`` wins over ``<<``).
_CPP_OPERATORS = re.compile(
    r"""\s*(?:<=>|<<=|>>=|->\*|(?:new|delete)\s*\[\s*\]|\(\s*\)|\[\s*\]|->|\+\+|--|<<|>>|<=|>=
    |==|!=|&&|\|\||[-+*/%^&|]=|[-+*/%^&|~!=<>,]|(?:new|delete|co_await)\b|""\s*[A-Za-z_]\w*)""",
    re.VERBOSE,
)
_CALL_FOLLOWS = re.compile(r"\s*\(")
_OPERATOR_CHARS = '<=>+-*/%^&|~!,()[]"_ \t'
#: Characters that may end a search for where tokenizing can start (see _start_before).
_PUNCTUATION = frozenset(string.punctuation.replace("_", "") + " \t\v\f")
#: How far back that search goes on a line without such a character (minified code).
_FURTHEST = 4096


def rules_for(language_id: str | None, uri: str = "") -> Rules:
    """The rules for a document: by its languageId when the table knows it, else by the
    extension of its URI, else the default rules."""
    family = LANGUAGES.get(language_id or "")
    if family is None:
        path = uri.split("?", 1)[0].split("#", 1)[0]
        dot = path.rfind(".")
        if dot > path.rfind("/"):
            family = LANGUAGES.get(EXTENSIONS.get(path[dot:].lower(), ""))
    return RULES[family or "default"]


def _continues(ch: str, rules: Rules) -> bool:
    if ch.isascii():
        return ch.isalnum() or ch == "_" or ch in rules.extra or ch in rules.continue_extra
    # XID_Continue: what may follow the first character of a Python identifier (UAX #31).
    return ("a" + ch).isidentifier() or ch in rules.extra or ch in rules.continue_extra


def _starts(ch: str, rules: Rules) -> bool:
    """XID_Start or "_" (str.isidentifier), or a language's extra character."""
    return ch.isidentifier() or ch in rules.extra


def _match(line: str, pos: int, rules: Rules) -> int:
    """End of the token starting at ``pos``, or ``pos`` when none starts there."""
    n = len(line)
    word = pos
    for prefix in rules.prefixes:
        after = pos + len(prefix)
        if line.startswith(prefix, pos) and after < n and _starts(line[after], rules):
            word = after
            break
    else:
        if rules.destructors and line[pos] == "~" and pos + 1 < n and _starts(line[pos + 1], rules):
            end = _word_end(line, pos + 1, rules)
            return end if _CALL_FOLLOWS.match(line, end) else pos
        if not _continues(line[pos], rules):
            return pos
    end = _word_end(line, word, rules)
    if rules.operators and line[word:end] == "operator":
        op = _CPP_OPERATORS.match(line, end)
        if op is not None:
            end = op.end()
    if (
        rules.suffixes
        and end < n
        and line[end] in rules.suffixes
        and not line.startswith("=", end + 1)
    ):
        end += 1
    return end


def _word_end(line: str, pos: int, rules: Rules) -> int:
    end, n = pos + 1, len(line)
    while end < n and _continues(line[end], rules):
        end += 1
    return end


def span_at(line: str, index: int, rules: Rules) -> tuple[int, int] | None:
    """(start, end) code-point indices of the name containing ``index`` in ``line``, else of
    the one ending exactly at ``index``; None when neither.

    Tokens are cut left to right, so a position inside a name always finds that name's start:
    ``r#type`` is one name at any of its characters, ``bar`` in ``foo#bar`` (not a prefix there)
    is not.
    """
    index = max(0, min(index, len(line)))
    pos = _start_before(line, index, rules)
    ending: tuple[int, int] | None = None
    while pos <= index and pos < len(line):
        end = _match(line, pos, rules)
        if end == pos:
            pos += 1
            continue
        if end > index:
            return pos, end
        if end == index:
            ending = (pos, end)
        pos = end
    return ending


def span_within(line: str, index: int, end: int, rules: Rules) -> tuple[int, int] | None:
    """(start, end) of the name containing ``index``, else of the first name starting after it
    and before ``end``; None when neither. Never the name ending at ``index``: this reads a
    server's ``selectionRange`` (``index`` to ``end``), which may start on punctuation the
    language's names do not own — ``*args``, ``**kwargs``, a quoted ``"slot"``, ``@decorator``
    — and the name is the first identifier inside it, not the one before it."""
    index = max(0, min(index, len(line)))
    end = min(end, len(line))
    pos = _start_before(line, index, rules)
    while pos < end:
        stop = _match(line, pos, rules)
        if stop == pos:
            pos += 1
            continue
        if stop > index:
            return pos, stop
        pos = stop
    return None


def _start_before(line: str, index: int, rules: Rules) -> int:
    """Where tokenizing may start and still cut exactly as from the line's start: right after
    the nearest character before ``index`` that no token of this line can contain (no token
    spans it, so the cut after it is the same). This keeps the work proportional to the name,
    not to the line (this runs on the relay's thread for every tracked request)."""
    outside = _outside(
        rules,
        rules.destructors and "~" in line,
        rules.operators and "operator" in line,
    )
    lowest = max(0, index - _FURTHEST)
    at = index - 1
    while at >= lowest and line[at] not in outside:
        at -= 1
    return at + 1 if at >= lowest or lowest == 0 else lowest  # past _FURTHEST: approximate


@functools.cache
def _outside(rules: Rules, tilde: bool, operators: bool) -> frozenset[str]:
    """ASCII punctuation and spaces no token can contain under ``rules`` on a line with (or
    without) a ``~`` and the word ``operator``."""
    inside = set(rules.extra + rules.continue_extra + rules.suffixes + "".join(rules.prefixes))
    if tilde:
        inside.add("~")
    if operators:
        inside.update(_OPERATOR_CHARS)
    return frozenset(_PUNCTUATION - inside)
