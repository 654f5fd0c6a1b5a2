#!/usr/bin/env bash
# Installs the tools the real-server and editor tests need beyond the pip extras:
#   - pyright (npm) into .tools/node_modules, repo-local, version pinned below;
#   - typescript-language-server + typescript (npm), the same way;
#   - scip-python (npm), the same way: the peer benchmarks/bench_scip.py compares with, and
#     tests/real/test_scip_python.py reads its index (installs in ~15 s);
#   - Emacs + eglot (Debian emacs-nox elpa-eglot) when running as root and missing.
# Idempotent: each step checks first and says what it did or why it did nothing.
# Needs network only to the npm registry and the Debian mirrors.
set -euo pipefail

# Keep in step with tests/real/realtools.py (PYRIGHT_VERSION); tests/real/test_pins.py checks
# both agree and that the installed pyright is this one.
PYRIGHT_VERSION="1.1.414"
# Keep in step with tests/real/realtools.py (TYPESCRIPT_LANGUAGE_SERVER_VERSION, TYPESCRIPT_VERSION),
# checked the same way.
TYPESCRIPT_LANGUAGE_SERVER_VERSION="6.0.2"
TYPESCRIPT_VERSION="5.9.3"
# Keep in step with tests/real/realtools.py (SCIP_PYTHON_VERSION) and benchmarks/bench_scip.py.
SCIP_PYTHON_VERSION="0.6.6"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo/.tools"
start=$SECONDS

say() { printf 'install-tools: %s\n' "$*"; }

install_pyright() {
    local installed=""
    if [ -f "$tools/node_modules/pyright/package.json" ]; then
        installed="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$tools/node_modules/pyright/package.json")"
    fi
    if [ "$installed" = "$PYRIGHT_VERSION" ]; then
        say "pyright $PYRIGHT_VERSION already in .tools/node_modules"
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt_install nodejs npm
        else
            say "SKIPPED pyright: npm not found (install Node.js >= 18 and npm, then rerun)"
            return
        fi
    fi
    mkdir -p "$tools"
    # --no-save would still want a package.json; a private one keeps npm from walking up to $HOME.
    [ -f "$tools/package.json" ] || printf '{"private": true}\n' >"$tools/package.json"
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "pyright@$PYRIGHT_VERSION"
    say "installed pyright $PYRIGHT_VERSION into .tools/node_modules (was: ${installed:-none})"
}

npm_version() {
    # Any indentation: typescript's and scip-python's package.json indent by 4, pyright's by 2.
    sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$tools/node_modules/$1/package.json" 2>/dev/null | head -n1 || true
}

install_typescript() {
    # typescript-language-server runs the tsserver of the typescript package next to it.
    local want="$TYPESCRIPT_LANGUAGE_SERVER_VERSION+$TYPESCRIPT_VERSION"
    local installed
    installed="$(npm_version typescript-language-server)+$(npm_version typescript)"
    if [ "$installed" = "$want" ]; then
        say "typescript-language-server $TYPESCRIPT_LANGUAGE_SERVER_VERSION + typescript $TYPESCRIPT_VERSION already in .tools/node_modules"
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        say "SKIPPED typescript-language-server: npm not found (install Node.js >= 20 and npm, then rerun)"
        return
    fi
    mkdir -p "$tools"
    [ -f "$tools/package.json" ] || printf '{"private": true}\n' >"$tools/package.json"
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
        "typescript-language-server@$TYPESCRIPT_LANGUAGE_SERVER_VERSION" "typescript@$TYPESCRIPT_VERSION"
    say "installed typescript-language-server + typescript $want into .tools/node_modules (was: $installed)"
}

install_scip_python() {
    local installed
    installed="$(npm_version @sourcegraph/scip-python)"
    if [ "$installed" = "$SCIP_PYTHON_VERSION" ]; then
        say "scip-python $SCIP_PYTHON_VERSION already in .tools/node_modules"
        return
    fi
    if ! command -v npm >/dev/null 2>&1; then
        say "SKIPPED scip-python: npm not found (install Node.js >= 18 and npm, then rerun)"
        return
    fi
    mkdir -p "$tools"
    [ -f "$tools/package.json" ] || printf '{"private": true}\n' >"$tools/package.json"
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
        "@sourcegraph/scip-python@$SCIP_PYTHON_VERSION"
    say "installed scip-python $SCIP_PYTHON_VERSION into .tools/node_modules (was: ${installed:-none})"
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    say "apt-get installed: $*"
}

install_emacs() {
    if command -v emacs >/dev/null 2>&1 \
        && emacs --batch --eval '(progn (require (quote eglot)) (kill-emacs 0))' >/dev/null 2>&1; then
        say "emacs with eglot already installed ($(emacs --version | head -n1))"
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        say "SKIPPED emacs + eglot: not root (as root: apt-get install emacs-nox elpa-eglot)"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "SKIPPED emacs + eglot: no apt-get on this machine"
        return
    fi
    apt_install emacs-nox elpa-eglot
}

install_pyright
install_typescript
install_scip_python
install_emacs
say "done in $((SECONDS - start)) s"
