#!/usr/bin/env bash
# Make `docker compose` (Compose v2) available when it is missing.
#
# Debian bookworm ships only Compose v1 (the python `docker-compose`); trixie's
# `docker-compose` package is Compose v2 as a Docker CLI plugin, and it runs on
# bookworm (it needs only libc6 >= 2.34). This script fetches that .deb from
# Debian's archive with a private apt configuration (the host's apt sources and
# installed packages are left untouched), unpacks the plugin binary and puts it
# where the Docker CLI looks for plugins:
#   root:      /usr/local/lib/docker/cli-plugins/docker-compose
#   otherwise: ~/.docker/cli-plugins/docker-compose
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail
say() { printf '[install-compose] %s\n' "$*" >&2; }
die() { printf '[install-compose] error: %s\n' "$*" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then
    say "present: $(docker compose version --short 2>/dev/null || docker compose version)"
    exit 0
fi
command -v docker >/dev/null 2>&1 || die "the docker CLI is missing: install Docker first"
command -v apt-get >/dev/null 2>&1 || die "Compose v2 is missing and this host has no apt-get to fetch it: install the Docker Compose v2 plugin (https://docs.docker.com/compose/install/)"

mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d /tmp/ipp-testbed-compose.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc/preferences.d" "$work/out"
echo "deb $mirror trixie main" >"$work/sources.list"
apt_opts=(
    -o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::Etc::preferencesparts=$work/etc/preferences.d"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
    -o "Dir::State::status=/var/lib/dpkg/status" -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)"
)
say "fetching Debian trixie's docker-compose (Compose v2) package list"
apt-get "${apt_opts[@]}" update -qq >/dev/null 2>"$work/apt.err" || { cat "$work/apt.err" >&2; die "apt-get update (trixie) failed"; }
(cd "$work/out" && apt-get "${apt_opts[@]}" download docker-compose >/dev/null 2>"$work/apt.err") \
    || { cat "$work/apt.err" >&2; die "could not download trixie's docker-compose package"; }
deb=$(ls "$work"/out/docker-compose_*.deb)
say "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"
plugin=$(find "$work/root" -type f -name docker-compose -path '*cli-plugins*' | head -1)
[ -n "$plugin" ] || die "no cli-plugins/docker-compose in $(basename "$deb")"
if [ "$(id -u)" = 0 ]; then dest=/usr/local/lib/docker/cli-plugins; else dest="$HOME/.docker/cli-plugins"; fi
mkdir -p "$dest"
install -m 0755 "$plugin" "$dest/docker-compose"
docker compose version >/dev/null 2>&1 || die "installed $dest/docker-compose but 'docker compose' still fails"
say "installed $dest/docker-compose: $(docker compose version --short)"
