#!/usr/bin/env bash
# DAISY Ace (EPUB accessibility checker) on Debian's chromium.
#
#   tools/ace.sh --install-only           install what is missing, run nothing
#   tools/ace.sh [ACE OPTIONS] BOOK.epub  install what is missing, then run
#                                         `ace --force [ACE OPTIONS] BOOK.epub`
#                                         (e.g. --outdir DIR, --silent, --timeout MS)
#
# Ace comes from the npm registry, pinned by tools/ace/package-lock.json, and
# is installed into .tools/ (git-ignored) with PUPPETEER_SKIP_DOWNLOAD=true:
# puppeteer would otherwise download a browser of its own. Ace drives
# Debian's `chromium` instead (PUPPETEER_EXECUTABLE_PATH), which this script
# installs with apt-get when it is missing and we are root; otherwise it says
# what to install. Ace already launches chromium with --no-sandbox (see
# @daisy/ace-axe-runner-puppeteer), so it runs as root in a container.
# Idempotent: a second run installs nothing. Exit status: Ace's own for a run
# (0 even when it finds violations: tools/ace_report.py judges report.json),
# 3 when Ace or chromium cannot be installed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCK_DIR="$ROOT/tools/ace"
PREFIX="$ROOT/.tools"
ACE="$PREFIX/node_modules/.bin/ace-cli"

say() { echo "ace.sh: $*" >&2; }

ace_installed() {
  [ -x "$ACE" ] && cmp -s "$LOCK_DIR/package-lock.json" "$PREFIX/package-lock.json"
}

install_ace() {
  ace_installed && return 0
  if ! command -v npm >/dev/null; then
    say "npm is not installed: cannot install DAISY Ace (Debian: apt-get install npm)"
    return 3
  fi
  say "installing DAISY Ace into .tools/ (npm ci, pinned by tools/ace/package-lock.json)"
  mkdir -p "$PREFIX"
  cp "$LOCK_DIR/package.json" "$LOCK_DIR/package-lock.json" "$PREFIX/"
  if ! PUPPETEER_SKIP_DOWNLOAD=true npm ci --prefix "$PREFIX" --no-audit --no-fund --loglevel=error >&2; then
    rm -f "$PREFIX/package-lock.json"  # so the next run tries again
    say "npm ci failed: DAISY Ace is not installed"
    return 3
  fi
}

find_chromium() {
  if [ -n "${PUPPETEER_EXECUTABLE_PATH:-}" ] && [ -x "$PUPPETEER_EXECUTABLE_PATH" ]; then
    echo "$PUPPETEER_EXECUTABLE_PATH"
  else
    command -v chromium || true
  fi
}

install_chromium() {
  [ -n "$(find_chromium)" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if apt-get install -y -q chromium >/dev/null 2>&1 ||
       { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; then
      [ -n "$(find_chromium)" ] && return 0
    fi
    say "apt-get could not install chromium"
    return 3
  fi
  say "chromium is not installed: install Debian's chromium (apt-get install chromium) or set PUPPETEER_EXECUTABLE_PATH"
  return 3
}

status=0
install_ace || status=$?
install_chromium || status=$?
[ "$status" = 0 ] || exit "$status"

if [ "${1:-}" = "--install-only" ]; then
  say "DAISY Ace $("$ACE" --version) and $("$(find_chromium)" --version 2>/dev/null) are installed"
  exit 0
fi
if [ "$#" = 0 ]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

PUPPETEER_EXECUTABLE_PATH="$(find_chromium)"
export PUPPETEER_EXECUTABLE_PATH
# Ace gives chromium 5 s to start by default: too little on a busy CI machine.
export ACE_TIMEOUT_INITIAL="${ACE_TIMEOUT_INITIAL:-60000}"
exec "$ACE" --force "$@"
