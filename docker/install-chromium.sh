#!/usr/bin/env bash
# Make a Chromium available for the browser test of the notebooks (tests/integration/
# test_notebooks.py drives it with Playwright, offline: Playwright's own browser
# download is never used). Debian's chromium package, installed with apt when it is
# missing; another Chromium can be named with TESTBED_CHROMIUM=/path/to/chromium.
set -euo pipefail
say() { printf '[install-chromium] %s\n' "$*" >&2; }
die() { printf '[install-chromium] error: %s\n' "$*" >&2; exit 1; }

if [ -n "${TESTBED_CHROMIUM:-}" ]; then
    [ -x "$TESTBED_CHROMIUM" ] || die "TESTBED_CHROMIUM=$TESTBED_CHROMIUM is not an executable"
    say "using $TESTBED_CHROMIUM"
    exit 0
fi
if command -v chromium >/dev/null 2>&1; then
    say "present: $(chromium --version 2>/dev/null | head -1)"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "no chromium and no apt-get: install Chromium, or point TESTBED_CHROMIUM at one"
[ "$(id -u)" = 0 ] || die "no chromium: install Debian's chromium package (sudo apt-get install chromium), or set TESTBED_CHROMIUM"
say "installing Debian's chromium package (about 15 s)"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
say "installed: $(chromium --version 2>/dev/null | head -1)"
