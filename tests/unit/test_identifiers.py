"""Unit tests for proxy.identifiers: the identifier at a position, per language.

Each case is a line with the expected name marked by its text: every position inside that name
(and right after it, when no other name starts there) must give exactly that name.
"""

from __future__ import annotations

import random

import pytest

from lsp_backoff.proxy import identifiers
from lsp_backoff.proxy.documents import Documents, Identifier
from lsp_backoff.proxy.identifiers import (
    LANGUAGES,
    RULES,
    Rules,
    rules_for,
    span_at,
    span_within,
)


def name_at(line: str, index: int, language: str) -> str | None:
    span = span_at(line, index, rules_for(language))
    return None if span is None else line[span[0] : span[1]]


def assert_whole(line: str, name: str, language: str, occurrence: int = 1) -> None:
    """Every position of the ``occurrence``-th ``name`` in ``line`` gives ``name``."""
    start = -1
    for _ in range(occurrence):
        start = line.index(name, start + 1)
    for index in range(start, start + len(name)):
        assert name_at(line, index, language) == name, (line, index, language)


CASES = [
    # (languageId, line, the name to find in it, occurrence)
    ("python", "def __init__(self, données):", "__init__", 1),
    ("python", "def __init__(self, données):", "données", 1),
    ("python", "x = αβγ_1 + \U0001d518nicode", "αβγ_1", 1),
    ("python", "x = αβγ_1 + \U0001d518nicode", "\U0001d518nicode", 1),  # astral XID_Start (U+1D518)
    ("python", "cafe\u0301 = 1", "cafe\u0301", 1),  # a combining mark continues (XID_Continue)
    ("cpp", "Block::~Block() { delete[] data_; }", "~Block", 1),
    ("cpp", "Block::~Block() { delete[] data_; }", "Block", 1),
    ("cpp", "  virtual ~Iterator ();", "~Iterator", 1),
    ("cpp", "bool operator==(const Slice& x, const Slice& y);", "operator==", 1),
    ("cpp", "char operator[](size_t n) const;", "operator[]", 1),
    ("cpp", "void operator()(int x);", "operator()", 1),
    ("cpp", "auto operator<=>(const V&) const = default;", "operator<=>", 1),
    ("cpp", "Slice& operator<<=(int);", "operator<<=", 1),
    ("cpp", "void* operator new(size_t n);", "operator new", 1),
    ("cpp", "void operator delete[](void* p);", "operator delete[]", 1),
    ("cpp", 'long double operator""_km(long double);', 'operator""_km', 1),
    ("cpp", "T* Arena::Allocate(size_t bytes) {", "Allocate", 1),
    ("cpp", "template <typename T> T max_of(T a) {", "max_of", 1),
    ("c", "int flags = ~mask;", "mask", 1),  # bitwise not: `~` is not part of the name
    ("rust", "pub fn r#type(&self) -> Kind {", "r#type", 1),
    ("rust", 'let s = br#"raw"#;', "br", 1),  # a raw string is not an identifier
    ("rust", "fn métrique<'a>(x: &'a str)", "métrique", 1),
    ("typescript", "  async #retry(request: Request) {", "#retry", 1),
    ("typescript", "    return this.#fetch($input);", "#fetch", 1),
    ("typescript", "    return this.#fetch($input);", "$input", 1),
    ("javascript", "const $el = jQuery$1();", "jQuery$1", 1),
    ("typescriptreact", "export default function Ünïcode() {}", "Ünïcode", 1),
    ("go", "func (s *Server) ServeHTTP(w http.ResponseWriter) {", "ServeHTTP", 1),
    ("go", "var 世界 = 1", "世界", 1),
    ("java", "class Outer$Inner { void get$x() {} }", "Outer$Inner", 1),
    ("java", "class Outer$Inner { void get$x() {} }", "get$x", 1),
    ("ruby", "  def empty?; @items.empty?; end", "empty?", 1),
    ("ruby", "  def empty?; @items.empty?; end", "@items", 1),
    ("ruby", "  def empty?; @items.empty?; end", "empty?", 2),
    ("ruby", "  record.save! if valid?", "save!", 1),
    ("ruby", "  @@count += $stdout.sync ? 1 : 0", "@@count", 1),
    ("ruby", "  @@count += $stdout.sync ? 1 : 0", "$stdout", 1),
    ("ruby", "  ok = a!=b", "a", 1),  # `!=` is an operator, not a bang method
    ("clojure", "(defn with-open-file* [path] (->> path slurp))", "with-open-file*", 1),
    ("clojure", "(defn with-open-file* [path] (->> path slurp))", "->>", 1),
    ("commonlisp", "(defvar *print-level* nil)", "*print-level*", 1),
    ("scheme", "(define (null? x) (set! y x))", "null?", 1),
    ("scheme", "(define (null? x) (set! y x))", "set!", 1),
    ("emacs-lisp", "(defun my/string->symbol (s) s)", "my/string->symbol", 1),
    ("css", ":root { --main-color: red; -webkit-box-flex: 1; }", "--main-color", 1),
    ("css", ":root { --main-color: red; -webkit-box-flex: 1; }", "-webkit-box-flex", 1),
    ("scss", "$font-stack: Helvetica;", "$font-stack", 1),
    ("less", "@base-color: #333;", "@base-color", 1),
    ("php", "function get($name) { return $this->name; }", "$name", 1),
    ("php", "function get($name) { return $this->name; }", "$this", 1),
    ("csharp", "void M(int @class) { }", "@class", 1),
    ("haskell", "foldl' f z xs = go z xs", "foldl'", 1),
    ("elixir", "def valid?(x), do: x", "valid?", 1),
]


@pytest.mark.parametrize(("language", "line", "name", "occurrence"), CASES)
def test_every_position_inside_a_name_gives_that_name(
    language: str, line: str, name: str, occurrence: int
) -> None:
    assert_whole(line, name, language, occurrence)


def test_positions_outside_names() -> None:
    assert name_at("foo(bar)", 3, "python") == "foo"  # right after: the name that ends there
    assert name_at("foo(bar)", 4, "python") == "bar"  # contains wins over ends
    assert name_at("foo(bar)", 7, "python") == "bar"
    assert name_at("foo(bar)", 8, "python") is None  # after ")"
    assert name_at("a + b", 2, "python") is None
    assert name_at("", 0, "python") is None
    assert name_at("x = 42", 4, "python") == "42"  # a number is keyed by its text too


def test_sigils_only_belong_to_names_where_the_language_says_so() -> None:
    assert name_at("this.#x", 6, "python") == "x"  # not Python
    assert name_at("this.#x", 5, "typescript") == "#x"
    assert name_at("x = #", 4, "typescript") is None  # nothing follows the sigil
    assert name_at("foo#bar", 4, "rust") == "bar"  # r# only at a name's start
    assert name_at("for# x", 0, "rust") == "for"
    assert name_at("~x", 1, "cpp") == "x"  # not followed by "(": the bitwise not
    assert name_at("a - b", 2, "css") == "-"  # CSS/Lisp: "-" alone is a name, as in (- a b)
    assert name_at("a-b", 1, "python") == "a"
    assert name_at("with-open-file", 6, "python") == "open"


def test_operator_keyword_alone_and_conversion_operators() -> None:
    assert name_at("operator bool() const;", 2, "cpp") == "operator"
    assert name_at("int operator = 1;", 5, "c") == "operator ="  # (rare C: still one key)
    assert name_at("x.operator_count", 4, "cpp") == "operator_count"


def test_long_lines_are_cut_the_same_as_short_ones() -> None:
    prefix = "a = b; " * 2000  # minified code: one very long line
    line = prefix + "const #priv = 1; x"
    index = line.index("#priv") + 2
    assert name_at(line, index, "typescript") == "#priv"
    long_name = "x" * 5000
    line = "y " + long_name + " z"
    assert name_at(line, len(line) - 1, "python") == "z"


def test_rules_by_language_id_then_extension() -> None:
    assert rules_for("typescript") is RULES["javascript"]
    assert rules_for(None, "file:///a/b.rb") is RULES["ruby"]
    assert rules_for("plaintext", "file:///a/b.hpp") is RULES["c-family"]  # unknown id: ext
    assert rules_for(None, "file:///a.dir/Makefile") is RULES["default"]
    assert rules_for(None, "file:///a/b.CPP?x=1") is RULES["c-family"]
    assert set(LANGUAGES.values()) <= set(RULES)


def test_documents_use_the_language_of_the_open_document() -> None:
    docs = Documents()
    uri = "untitled:Untitled-1"  # no extension: only didOpen's languageId tells
    docs.note_language(uri, "ruby")
    docs.open(uri, "def empty?\n")
    assert docs.identifier_at(uri, 0, 5) == Identifier(0, 4, "empty?")
    docs.note_language(uri, "python")
    assert docs.identifier_at(uri, 0, 5) == Identifier(0, 4, "empty")


def test_documents_cut_by_extension_and_in_utf16() -> None:
    docs = Documents(encoding="utf-16")
    uri = "file:///nowhere/k.ts"
    docs.open(uri, "const 😀 = this.#rétry;\n")
    # "const 😀 = this." is 16 UTF-16 units (the emoji takes two).
    assert docs.identifier_at(uri, 0, 18) == Identifier(0, 16, "#rétry")


def test_hint_finds_the_name_part_of_a_display_name() -> None:
    docs = Documents()
    uri = "file:///nowhere/a.cc"
    docs.open(uri, "char* Arena::Allocate(size_t bytes) {\nBlock::~Block() {}\n")
    # SymbolInformation ranges start at the declaration: the name is looked for on the line.
    assert docs.identifier_at(uri, 0, 0, "Arena::Allocate") == Identifier(0, 13, "Allocate")
    assert docs.identifier_at(uri, 1, 0, "Block::~Block") == Identifier(1, 7, "~Block")
    assert docs.identifier_at(uri, 0, 0, "Allocate(size_t)") == Identifier(0, 13, "Allocate")
    # a hint found only inside another name does not move the position
    assert docs.identifier_at(uri, 0, 0, "Alloc") == Identifier(0, 0, "char")


def test_documents_key_a_selection_range_at_its_first_identifier() -> None:
    docs = Documents(encoding="utf-16")
    uri = "file:///nowhere/m.py"
    docs.open(uri, "def f(é, *args):\n    __slots__ = (\n        'a',\n    )\n")
    # "def f(é, " is 9 UTF-16 units; selectionRange `*args` is 9..14
    assert docs.identifier_at(uri, 0, 9, until=(0, 14)) == Identifier(0, 10, "args")
    assert docs.identifier_at(uri, 0, 9) == Identifier(0, 9, "")  # without it: the position
    assert docs.identifier_at(uri, 2, 8, until=(3, 0)) == Identifier(2, 9, "a")  # goes on
    assert docs.identifier_at(uri, 0, 5, until=(0, 5)) == Identifier(0, 4, "f")  # empty range


def name_within(line: str, selection: str, language: str) -> str | None:
    """The name span_within finds in the first ``selection`` of ``line`` (a server's range)."""
    start = line.index(selection)
    span = span_within(line, start, start + len(selection), rules_for(language))
    return None if span is None else line[span[0] : span[1]]


def test_a_range_starting_on_punctuation_names_the_first_identifier_inside_it() -> None:
    """basedpyright's selectionRange of a parameter starts at its `*`, of a `__slots__` entry at
    its quote (issue 21): the name is the identifier after them, in every language; a sigil the
    language owns stays part of the name."""
    assert name_within("def f(a, *args, **kwargs):", "*args", "python") == "args"
    assert name_within("def f(a, *args, **kwargs):", "**kwargs", "python") == "kwargs"
    assert name_within('    __slots__ = ("a", "b")', '"b"', "python") == "b"
    assert name_within("@property", "@property", "python") == "property"
    assert name_within("function f(...rest) {}", "...rest", "typescript") == "rest"
    assert name_within("  #x = 1;", "#x", "typescript") == "#x"  # owned: part of the name
    assert name_within("  $count = 1;", "$count", "php") == "$count"
    assert name_within("  @ivar = 1", "@ivar", "ruby") == "@ivar"
    assert name_within("  @ivar = 1", "@ivar", "python") == "ivar"
    assert name_within("void f(int &ref);", "&ref", "cpp") == "ref"
    assert name_within("x = args", "args", "python") == "args"  # at the name: unchanged
    assert name_within("f(x)", "(", "python") is None  # no name inside: never the one before
    assert name_within("(* ) y", "(* )", "python") is None  # nor one after the range


def reference_span(line: str, index: int, rules: Rules) -> tuple[int, int] | None:
    """span_at without its shortcut: tokens cut from the start of the line."""
    pos, ending = 0, None
    while pos <= index and pos < len(line):
        end = identifiers._match(line, pos, rules)
        if end == pos:
            pos += 1
        elif end > index:
            return pos, end
        else:
            ending = (pos, end) if end == index else ending
            pos = end
    return ending


def test_starting_near_the_position_cuts_as_from_the_line_start() -> None:
    """span_at starts tokenizing just before the position (it runs for every request): on
    random lines of every language's tricky characters, that must change nothing."""
    rng = random.Random(15)
    alphabet = "ab_9 $#@~!?-*=<>()[],;.:'\"r{}é\u0301" + "operator "
    for family, rules in RULES.items():
        for _ in range(120):
            line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            if rng.random() < 0.3:
                line = line.replace("r ", "operator ").replace("~", " ~Name(")
            for index in range(len(line) + 1):
                expected = reference_span(line, index, rules)
                assert span_at(line, index, rules) == expected, (family, line, index)


def test_a_range_inside_a_name_gives_that_name_as_span_at_does() -> None:
    """span_within differs from span_at only off names: on random lines, wherever span_at's
    name contains the position, span_within (to the line's end) gives the same one, and
    otherwise a name starting after the position or nothing."""
    rng = random.Random(21)
    alphabet = "ab_9 $#@~!?-*=<>()[],;.:'\"r{}é" + "operator "
    for family, rules in RULES.items():
        for _ in range(80):
            line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            for index in range(len(line)):
                at = span_at(line, index, rules)
                within = span_within(line, index, len(line), rules)
                if at is not None and at[0] <= index < at[1]:
                    assert within == at, (family, line, index)
                else:
                    assert within is None or within[0] > index, (family, line, index)
