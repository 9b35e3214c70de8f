#!/usr/bin/env bash
# Make a Chromium available for the browser test of the notebooks (tests/integration/
# test_notebooks.py drives it with Playwright). In this order:
#   1. TESTBED_CHROMIUM=/path/to/chromium, when set;
#   2. a chromium already on PATH (Debian's package);
#   3. as root with apt-get: Debian's chromium package;
#   4. otherwise Playwright's own Chromium (`playwright install chromium`, into ~/.cache),
#      where its download site can be reached.
# Where none can be had it says so and exits 0: outside CI the browser test is then skipped
# with that reason; in CI (CI=true) the test fails.
set -euo pipefail
say() { printf '[install-chromium] %s\n' "$*" >&2; }
die() { printf '[install-chromium] error: %s\n' "$*" >&2; exit 1; }

if [ -n "${TESTBED_CHROMIUM:-}" ]; then
    [ -x "$TESTBED_CHROMIUM" ] || die "TESTBED_CHROMIUM=$TESTBED_CHROMIUM is not an executable"
    say "using $TESTBED_CHROMIUM"
    exit 0
fi
for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        say "present: $("$name" --version 2>/dev/null | head -1)"
        exit 0
    fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium package (about 15 s)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    say "installed: $(chromium --version 2>/dev/null | head -1)"
    exit 0
fi
playwright="${PLAYWRIGHT:-playwright}"
if command -v "$playwright" >/dev/null 2>&1; then
    say "not root: trying Playwright's own Chromium ($playwright install chromium, at most 5 min)"
    out="$(mktemp /tmp/ipp-testbed-playwright.XXXXXX)"  # per run: another user's file may be there
    if timeout 300 "$playwright" install chromium >"$out" 2>&1; then
        rm -f "$out"
        say "installed Playwright's Chromium"
        exit 0
    fi
    say "Playwright could not download its Chromium ($(tail -1 "$out"))"
    rm -f "$out"
fi
say "no Chromium: the browser test will be skipped (it fails in CI). Install one (sudo apt-get install chromium)" \
    "or set TESTBED_CHROMIUM=/path/to/chromium"
