"""The graph `lsp-backoff enrich --operation references` builds, against a SCIP indexer's index of
the same copy of a workspace (issue 21 item 5): symbols, references, disagreements, wall times.

Python: enrich in front of basedpyright against scip-python; TypeScript: enrich in front of
typescript-language-server against scip-typescript. Both run in this one process's run, one
after the other on the same fresh copy (a git repository: scip-python reads it, enrich lists
files with it), enrich into a fresh database. The SCIP indexers are peers, not dependencies:
install them once, outside the tree (build/ is git-ignored), with

    npm install --prefix build/scip-tools \
        @sourcegraph/scip-python@0.6.6 @sourcegraph/scip-typescript@0.4.0

or `--install`, which runs that for the language at hand (scripts/install-tools.sh also puts
scip-python, pinned, in .tools/, which is looked at second). Without the indexer or the language
server the script says what is missing and how to install it, and stops (exit 2).

    .venv/bin/python benchmarks/bench_scip.py                              # rich, from the venv
    .venv/bin/python benchmarks/bench_scip.py --workspace .venv/lib/python3.11/site-packages/pip
    .venv/bin/python benchmarks/bench_scip.py --workspace /tmp/immer --language typescript
    .venv/bin/python benchmarks/bench_scip.py --keep /tmp/out              # keep copy, db, index
    .venv/bin/python benchmarks/bench_scip.py --compare /tmp/out           # re-read only, no runs

Symbols: ours are the documentSymbol symbols of the copy's files in the graph, keyed at their
selectionRange start; SCIP's are the symbols with a definition occurrence in a document. A
symbol is *matched* when a SCIP definition starts at the same file, line and character (SCIP
columns converted to UTF-16 code units, which is what LSP and the graph count). For matched
symbols the reference locations are compared by file, line and start character: ours are the
graph's `references` edges (asked with includeDeclaration false); SCIP's are the symbol's
occurrences except the matched definition. Precision and recall are read against SCIP.
Every location or symbol on one side only is put in a class, printed with its count and one
example; the classes are heuristics on the index and the source text, named for what they
catch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import scip_index

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "build" / "scip-tools"
PINNED = {
    "python": "@sourcegraph/scip-python@0.6.6",
    "typescript": "@sourcegraph/scip-typescript@0.4.0",
}
INDEXER = {"python": "scip-python", "typescript": "scip-typescript"}
SERVER = {
    "python": [str(ROOT / ".venv" / "bin" / "basedpyright-langserver"), "--stdio"],
    "typescript": [
        str(ROOT / ".tools" / "node_modules" / ".bin" / "typescript-language-server"),
        "--stdio",
    ],
}
SUFFIXES = {"python": (".py", ".pyi"), "typescript": (".ts", ".tsx", ".mts", ".cts")}
Loc = tuple[str, int, int]  # relative path, line, UTF-16 character


# ---------------------------------------------------------------------------------- running


def copy_workspace(source: Path, target: Path, language: str) -> None:
    """A Python package goes one level down (target/rich/…), so that both tools see the import
    names it is published under: at the root, rich/abc.py is module `abc` to scip-python (the
    stdlib's name) and `from pip._internal…` would resolve to the environment's copy."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", "node_modules")
    nested = language == "python" and (source / "__init__.py").exists()
    shutil.copytree(source, target / source.name if nested else target, ignore=ignore)
    git = ["git", "-C", str(target), "-c", "user.name=bench", "-c", "user.email=bench@invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "workspace"], check=True)


def timed(argv: list[str], cwd: Path, log: Path) -> dict[str, Any]:
    """Wall, CPU (the process and every descendant it waited for) and peak RSS of one command."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return {
        "wall": round(wall, 2),
        "cpu": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": usage.ru_maxrss >> 10,
        "status": os.waitstatus_to_exitcode(status),
        "load_before": round(load, 2),
        "log": str(log),
    }


def run_enrich(args: argparse.Namespace, copy: Path, out: Path) -> dict[str, Any]:
    db = out / "graph.db"
    for stale in out.glob("graph.db*"):
        stale.unlink()
    argv = [
        sys.executable,
        "-m",
        "lsp_backoff",
        "enrich",
        str(copy),
        "--db",
        str(db),
        "--operation",
        "references",
        "--json",
        "--servers",
        args.servers,
        *args.enrich_option,
        "--",
        *args.server,
    ]
    result = timed(argv, ROOT, out / "enrich.log")
    with open(result["log"], encoding="utf-8", errors="replace") as log:
        lines = [line for line in log if line.startswith("{")]
    if lines:
        summary = json.loads(lines[-1])
        result["requests"] = summary["requests"]["sent"]
        result["missing"] = summary["missing"]
        result["symbols"] = summary["symbols"]
    return result


def run_indexer(args: argparse.Namespace, tool: Path, copy: Path, out: Path) -> dict[str, Any]:
    output = out / "index.scip"
    output.unlink(missing_ok=True)
    if args.language == "python":
        argv = [
            str(tool),
            "index",
            "--project-name",
            args.workspace.name,
            "--cwd",
            str(copy),
            "--output",
            str(output),
            "--quiet",
        ]
    else:
        argv = [
            str(tool),
            "index",
            "--cwd",
            str(copy),
            "--output",
            str(output),
            "--no-progress-bar",
        ]
        if not (copy / "tsconfig.json").exists():
            argv.append("--infer-tsconfig")
    return timed(argv, copy, out / "indexer.log")


# ---------------------------------------------------------------------------------- reading


@dataclass
class Ours:
    symbols: dict[Loc, tuple[str, str, int | None]] = field(default_factory=dict)  # key, name, kind
    references: dict[str, set[Loc]] = field(default_factory=lambda: defaultdict(set))
    none: set[str] = field(default_factory=set)
    at: dict[Loc, set[str]] = field(default_factory=lambda: defaultdict(set))  # loc -> names


def relative(uri: str, copy: Path) -> str | None:
    path = Path(unquote(urlparse(uri).path))
    try:
        return path.relative_to(copy).as_posix()
    except ValueError:
        return None


def read_graph(db: Path, copy: Path) -> Ours:
    ours = Ours()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    names: dict[str, str] = {}
    for key, uri, name, kind, line, character in con.execute(
        "SELECT key, uri, name, kind, line, character FROM symbols WHERE source = 'document_symbol'"
    ):
        path = relative(uri, copy)
        if path is not None:
            ours.symbols[(path, line, character)] = (key, name, kind)
            ours.at[(path, line, character)].add(name)
            names[key] = name
    for key, kind, uri, line, character in con.execute(
        "SELECT symbol, kind, target_uri, target_line, target_character FROM edges"
        " WHERE operation = 'references'"
    ):
        if kind == "none":
            ours.none.add(key)
        elif kind == "edge" and key in names and (path := relative(uri, copy)) is not None:
            ours.references[key].add((path, line, character))
            ours.at[(path, line, character)].add(names[key])
    con.close()
    return ours


@dataclass
class Theirs:
    definitions: dict[Loc, str] = field(default_factory=dict)  # first definition at a place
    occurrences: dict[str, set[Loc]] = field(default_factory=lambda: defaultdict(set))
    at: dict[Loc, set[str]] = field(default_factory=lambda: defaultdict(set))
    defined: set[str] = field(default_factory=set)
    modules: dict[str, Loc] = field(default_factory=dict)  # module symbol -> its definition
    encodings: Counter[int] = field(default_factory=Counter)
    tool: str = ""


def read_scip(path: Path, copy: Path, texts: dict[str, list[str]]) -> Theirs:
    index = scip_index.read(path)
    theirs = Theirs(tool=f"{index.tool} {index.version}")
    for doc in index.documents:
        theirs.encodings[doc.position_encoding] += 1
        lines = texts.get(doc.path) or source_lines(copy, doc.path, texts)
        for occ in doc.occurrences:
            if not occ.symbol:
                continue
            # "local N" names a symbol only within its document (scip.proto, Symbol grammar).
            symbol = (
                f"local {doc.path} {occ.symbol[6:]}"
                if occ.symbol.startswith("local ")
                else occ.symbol
            )
            text = lines[occ.line] if occ.line < len(lines) else ""
            column = scip_index.utf16_column(text, occ.character, doc.position_encoding)
            loc = (doc.path, occ.line, column)
            theirs.occurrences[symbol].add(loc)
            theirs.at[loc].add(symbol)
            if occ.is_definition:
                theirs.defined.add(symbol)
                if is_module(symbol):  # at 0:0, where a module's first statement may start too
                    theirs.modules[symbol] = loc
                else:
                    theirs.definitions.setdefault(loc, symbol)
    return theirs


def source_lines(copy: Path, path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            cache[path] = (copy / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    return cache[path]


# ---------------------------------------------------------------------------------- comparing


class Classes:
    """Counts per class, with the first example of each."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, name: str, example: str) -> None:
        self.counts[name] += 1
        self.examples.setdefault(name, example)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"class": name, "count": count, "example": self.examples[name]}
            for name, count in self.counts.most_common()
        ]


def where(loc: Loc, lines: list[str]) -> str:
    text = lines[loc[1]].strip() if loc[1] < len(lines) else ""
    return f"{loc[0]}:{loc[1] + 1}:{loc[2] + 1}  {text[:90]}"


def is_module(symbol: str) -> bool:
    # scip-python: "… pkg.mod/__init__:"; scip-typescript: a file's symbol ends in "/".
    return symbol.endswith("/__init__:") or symbol.endswith("/")


def is_class(symbol: str) -> bool:
    return symbol.endswith("#")


def short(symbol: str) -> str:
    return symbol.split(" ", 4)[-1] if not symbol.startswith("local ") else symbol


IDENTIFIER = re.compile(r"\w+")
KEYWORD_ARGUMENT = re.compile(r"[A-Za-z_]\w*\s*=(?!=)")


def compare(
    ours: Ours, theirs: Theirs, copy: Path, texts: dict[str, list[str]], language: str
) -> dict[str, Any]:
    python = language == "python"

    def lines(path: str) -> list[str]:
        return source_lines(copy, path, texts)

    def char_at(loc: Loc, offset: int = 0) -> str:
        text = lines(loc[0])[loc[1]] if loc[1] < len(lines(loc[0])) else ""
        i = loc[2] + offset  # UTF-16 column ≈ index on the BMP, enough for a class name
        return text[i] if 0 <= i < len(text) else ""

    matched = {loc: theirs.definitions[loc] for loc in ours.symbols if loc in theirs.definitions}
    only_ours, only_theirs = Classes(), Classes()
    for loc, (_, name, kind) in ours.symbols.items():
        if loc in matched:
            continue
        example = f"{name} (kind {kind}) at {where(loc, lines(loc[0]))}"
        first = char_at(loc)
        if first in ("*", "'", '"', "@"):
            only_ours.add(f"keyed at punctuation {first!r} (not at the name)", example)
        elif theirs.at.get(loc):
            only_ours.add("SCIP has a reference there, not a definition", example)
        else:
            only_ours.add(f"SCIP has no occurrence there (kind {kind})", example)
    ours_places = set(ours.symbols)
    for symbol in sorted(theirs.defined - set(matched.values())):
        defs = sorted(
            loc for loc in theirs.occurrences[symbol] if theirs.definitions.get(loc) == symbol
        )
        if symbol in theirs.modules:
            defs = [theirs.modules[symbol]]
        if not defs:
            only_theirs.add("defined where another symbol's definition starts", short(symbol))
            continue
        loc = defs[0]
        example = f"{short(symbol)} at {where(loc, lines(loc[0]))}"
        text = lines(loc[0])[loc[1]] if loc[1] < len(lines(loc[0])) else ""
        word = IDENTIFIER.match(text, loc[2])
        # *args, **kwargs, a quoted __slots__ entry: ours at the `*` or the quote before the name.
        sigil = next((k for k in (1, 2) if (loc[0], loc[1], loc[2] - k) in ours_places), 0)
        if is_module(symbol):
            only_theirs.add("module (a file)", example)
        elif python and word and word.group(0) in ("self", "cls"):
            only_theirs.add("self / cls", example)
        elif sigil and set(text[loc[2] - sigil : loc[2]]) <= {"*", "'", '"'}:
            only_theirs.add("ours keyed on the punctuation before it", example)
        elif symbol.startswith("local "):
            only_theirs.add(
                "local (comprehension variable, lambda parameter, …)"
                if python
                else "local (a parameter or variable of a function expression, …)",
                example,
            )
        elif symbol.endswith(")") and not symbol.endswith("()"):  # a descriptor `f().(x)`
            only_theirs.add("a parameter, not listed by documentSymbol", example)
        else:
            only_theirs.add("not listed by documentSymbol", example)

    common = 0
    refs_ours, refs_theirs = Classes(), Classes()
    for loc, symbol in matched.items():
        key, name, _ = ours.symbols[loc]
        mine = ours.references.get(key, set())
        scip = theirs.occurrences[symbol] - {loc}
        common += len(mine & scip)
        for ref in sorted(mine - scip):
            there = theirs.at.get(ref, set())
            scip_there = ", ".join(map(short, sorted(there))) or "-"
            example = f"{name}: {where(ref, lines(ref[0]))}  [SCIP: {scip_there}]"
            if ref == loc:
                refs_ours.add("the symbol's own declaration", example)
            elif not there:
                if char_at(ref, -1) in ("'", '"'):
                    refs_ours.add(
                        "in a string (__all__, string annotations): SCIP has nothing", example
                    )
                else:
                    refs_ours.add("SCIP has no occurrence there", example)
            elif name == "__init__" and any(is_class(s) for s in there):
                refs_ours.add("constructor call listed under __init__ (SCIP: the class)", example)
            elif any(is_module(s) for s in there):
                refs_ours.add("SCIP resolves a module there", example)
            elif not (there & theirs.defined) and not any(s.startswith("local ") for s in there):
                refs_ours.add("SCIP: a symbol declared outside the workspace (lib, types)", example)
            elif (
                python
                and symbol.startswith("local ")
                and any(s.startswith("local ") for s in there)
            ):
                refs_ours.add(
                    "a local assigned in several places: SCIP has another local there", example
                )
            elif any(re.search(rf"#`?{re.escape(name)}`?(\(\))?\.$", s) for s in there):
                refs_ours.add(
                    "SCIP: a same-named member of another type (an override or base member,"
                    " the type an object literal is checked against)",
                    example,
                )
            elif any(theirs.definitions.get(ref) == s for s in there):
                refs_ours.add("SCIP has another symbol's definition there", example)
            else:
                refs_ours.add("SCIP has another symbol there", example)
        for ref in sorted(scip - mine):
            others = ours.at.get(ref, set()) - {name}
            example = (
                f"{name}: {where(ref, lines(ref[0]))}  [ours: {', '.join(sorted(others)) or '-'}]"
            )
            text = lines(ref[0])[ref[1]] if ref[1] < len(lines(ref[0])) else ""
            before = text[: ref[2]].rstrip()  # "" for a keyword argument on a line of its own
            if is_class(symbol) and text[: ref[2]].endswith("self."):
                refs_theirs.add("SCIP lists a self.<attribute> under the class", example)
            elif key in ours.none:
                refs_theirs.add("our graph says none for the symbol", example)
            elif theirs.definitions.get(ref) == symbol:
                refs_theirs.add(
                    "another definition of the symbol (a reassignment, an @overload signature)",
                    example,
                )
            elif others:
                refs_theirs.add("our graph lists it under another symbol", example)
            elif KEYWORD_ARGUMENT.match(text, ref[2]) and before[-1:] in ("", "(", ","):
                refs_theirs.add("keyword argument, not in our answer", example)
            elif not (word := IDENTIFIER.match(text, ref[2])):
                refs_theirs.add(
                    "SCIP's range starts on punctuation (a parenthesised name)", example
                )
            elif word.group(0) != name:
                refs_theirs.add("another name there (an import alias), not in our answer", example)
            else:
                refs_theirs.add("not in the server's answer", example)
    n_ours = common + sum(refs_ours.counts.values())
    n_theirs = common + sum(refs_theirs.counts.values())
    return {
        "symbols_ours": len(ours.symbols),
        "symbols_scip": len(theirs.defined),
        "matched": len(matched),
        "references_common": common,
        "references_only_ours": n_ours - common,
        "references_only_scip": n_theirs - common,
        "precision": round(common / n_ours, 4) if n_ours else None,
        "recall": round(common / n_theirs, 4) if n_theirs else None,
        "ours_none_matched": sum(1 for loc in matched if ours.symbols[loc][0] in ours.none),
        "symbols_only_ours": only_ours.rows(),
        "symbols_only_scip": only_theirs.rows(),
        "references_only_ours_classes": refs_ours.rows(),
        "references_only_scip_classes": refs_theirs.rows(),
        "scip_position_encodings": dict(theirs.encodings),
        "scip_tool": theirs.tool,
    }


# ---------------------------------------------------------------------------------- output


def print_report(report: dict[str, Any]) -> None:
    c = report["comparison"]
    print(
        f"workspace {report['workspace']} ({report['language']}, {report['files']} files, "
        f"{report['lines']} lines), {c['scip_tool']}; load average at start {report['load']}"
    )
    for name in ("enrich", "indexer"):
        run = report.get(name)
        if run:
            extra = (
                f", {run['requests']} requests, {run['missing']} missing"
                if "requests" in run
                else ""
            )
            print(
                f"  {name:8} wall {run['wall']:7.1f} s  cpu {run['cpu']:7.1f} s  peak rss "
                f"{run['peak_rss_mb']} MB  (load {run['load_before']} before){extra}"
            )
    if report.get("enrich") and report.get("indexer"):
        ratio = report["enrich"]["wall"] / report["indexer"]["wall"]
        print(f"  enrich wall / SCIP wall: {ratio:.2f}x")
    print(
        f"symbols: ours {c['symbols_ours']}, SCIP {c['symbols_scip']} (with a definition), "
        f"matched {c['matched']} ({c['ours_none_matched']} of them 'none' in ours)"
    )
    print(
        f"references on matched symbols: common {c['references_common']}, only ours "
        f"{c['references_only_ours']}, only SCIP {c['references_only_scip']}; "
        f"precision {c['precision']}, recall {c['recall']} (against SCIP)"
    )
    for title, rows in (
        ("symbols only in ours", c["symbols_only_ours"]),
        ("symbols only in SCIP (a definition, none of ours there)", c["symbols_only_scip"]),
        ("reference locations only in ours", c["references_only_ours_classes"]),
        ("reference locations only in SCIP", c["references_only_scip_classes"]),
    ):
        print(f"\n{title}:")
        for row in rows:
            print(f"  {row['count']:6}  {row['class']}\n          e.g. {row['example']}")


def count_source(copy: Path, language: str) -> tuple[int, int]:
    files = [p for p in copy.rglob("*") if p.suffix in SUFFIXES[language] and ".git" not in p.parts]
    return len(files), sum(p.read_bytes().count(b"\n") for p in files)


def guess_language(path: Path) -> str:
    py = sum(1 for _ in path.rglob("*.py"))
    ts = sum(1 for p in path.rglob("*.ts") if "node_modules" not in p.parts)
    return "typescript" if ts > py else "python"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workspace", type=Path, default=ROOT / ".venv/lib/python3.11/site-packages/rich"
    )
    parser.add_argument("--language", choices=sorted(INDEXER), help="default: by file count")
    parser.add_argument(
        "--tools",
        type=Path,
        default=TOOLS,
        help=f"where the SCIP indexers are installed (default {TOOLS})",
    )
    parser.add_argument(
        "--install", action="store_true", help="npm install the pinned indexer there"
    )
    parser.add_argument(
        "--server", help="the language server command (JSON list; default per language)"
    )
    parser.add_argument("--servers", default="auto", help="enrich --servers (default auto)")
    parser.add_argument(
        "--enrich-option",
        action="append",
        default=[],
        help="one more enrich argument (repeatable), e.g. --enrich-option=--timeout=600",
    )
    parser.add_argument("--order", choices=("enrich-first", "scip-first"), default="enrich-first")
    parser.add_argument("--keep", type=Path, help="keep the copy, graph.db and index.scip here")
    parser.add_argument("--compare", type=Path, help="only compare what --keep left in this folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    if args.compare:
        out = args.compare
        saved = json.loads((out / "runs.json").read_text()) if (out / "runs.json").exists() else {}
        args.language = args.language or saved.get("language") or guess_language(out / "copy")
    else:
        args.language = args.language or guess_language(args.workspace)
    args.server = json.loads(args.server) if args.server else SERVER[args.language]
    # scripts/install-tools.sh puts scip-python (for tests/real) in .tools: the second place.
    tool = args.tools / "node_modules" / ".bin" / INDEXER[args.language]
    fallback = ROOT / ".tools" / "node_modules" / ".bin" / INDEXER[args.language]
    if not tool.exists() and fallback.exists() and not args.install:
        tool = fallback
    if args.install and not tool.exists():
        args.tools.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(args.tools),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                PINNED[args.language],
            ],
            check=True,
        )
    if not args.compare and not tool.exists():
        print(
            f"bench_scip: {INDEXER[args.language]} not found at {tool}; install it with\n"
            f"  npm install --prefix {args.tools} {PINNED[args.language]}\n"
            "or run this script with --install",
            file=sys.stderr,
        )
        return 2
    if not args.compare and not Path(args.server[0]).exists() and not shutil.which(args.server[0]):
        print(
            f"bench_scip: language server {args.server[0]} not found "
            "(scripts/install-tools.sh installs typescript-language-server)",
            file=sys.stderr,
        )
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-scip-") as tmp:
        out = args.compare or args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        copy = out / "copy"
        runs: dict[str, Any] = {"language": args.language}
        if not args.compare:
            if copy.exists():
                shutil.rmtree(copy)
            copy_workspace(args.workspace, copy, args.language)
            runs["load"] = [round(x, 2) for x in os.getloadavg()]
            steps = ["enrich", "indexer"] if args.order == "enrich-first" else ["indexer", "enrich"]
            for step in steps:
                print(f"bench_scip: running {step} …", file=sys.stderr)
                runs[step] = (
                    run_enrich(args, copy, out)
                    if step == "enrich"
                    else run_indexer(args, tool, copy, out)
                )
                status, log = runs[step]["status"], runs[step]["log"]
                if status != 0:
                    print(f"bench_scip: {step} exited {status} (its log: {log})", file=sys.stderr)
            (out / "runs.json").write_text(json.dumps(runs))
        else:
            runs = saved
        texts: dict[str, list[str]] = {}
        ours = read_graph(out / "graph.db", copy.resolve())
        theirs = read_scip(out / "index.scip", copy, texts)
        files, lines = count_source(copy, args.language)
        report = {
            "workspace": str(args.workspace if not args.compare else copy),
            "language": args.language,
            "files": files,
            "lines": lines,
            "load": runs.get("load"),
            "enrich": runs.get("enrich"),
            "indexer": runs.get("indexer"),
            "comparison": compare(ours, theirs, copy, texts, args.language),
        }
        if args.json:
            print(json.dumps(report, indent=1))
        else:
            print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
