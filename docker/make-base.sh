#!/usr/bin/env bash
# Make a Debian base image (debian:bookworm-slim, debian:trixie-slim) on a host that has no
# registry.
#
# The node image starts FROM debian:bookworm-slim. Where a registry answers,
# `docker pull` gives it; where none does (an air-gapped host, this project's CI),
# this script builds an equivalent from Debian's own packages: debootstrap a
# minimal bookworm, trim it the way the official slim image is trimmed (no docs,
# man pages, locales, apt lists or .deb cache, and dpkg told to keep it so), then
# `docker import` it under the same tag.
#
# The Docker and Podman test hosts (`testbed host`, docs/hosts.md) start FROM
# debian:trixie-slim, made the same way: the suite is the tag's (debian:SUITE-slim).
#
# Usage: docker/make-base.sh [TAG]        (default debian:bookworm-slim)
# Env:   DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail

tag="${1:-debian:bookworm-slim}"
case "$tag" in
    debian:bookworm-slim) suite=bookworm ;;
    debian:trixie-slim) suite=trixie ;;
    *) printf '[make-base] error: %s: debian:bookworm-slim or debian:trixie-slim\n' "$tag" >&2; exit 2 ;;
esac
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

say() { printf '[make-base] %s\n' "$*" >&2; }
die() { printf '[make-base] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root (run as root, or pull $tag where a registry answers)"

if ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get to install it"
    say "installing debootstrap from Debian's archive"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

work="$(mktemp -d /tmp/ipp-testbed-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/root"

say "debootstrap --variant=minbase $suite from $mirror (about a minute)"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

say "configuring apt sources and slim dpkg/apt settings"
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SRC
# What the official slim image does: never install docs, man pages or translations ...
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
# ... and keep no .deb cache or package lists after an install.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
cat >"$root/etc/apt/apt.conf.d/docker-no-languages" <<'CFG'
Acquire::Languages "none";
CFG
cat >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'CFG'
Apt::AutoRemove::SuggestsImportant "false";
CFG

say "trimming docs, man pages, locales, apt lists and caches"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/groff/* \
       "$root"/usr/share/lintian/* "$root"/usr/share/linda/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
       "$root"/var/log/* "$root"/tmp/* "$root"/root/.bash_history
# A fresh machine-id per container, as in the official image.
: >"$root/etc/machine-id"

say "importing as $tag"
tar --numeric-owner -C "$root" -c . \
  | docker import \
      --change 'CMD ["bash"]' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'LABEL ipp-testbed.base=debootstrap' \
      - "$tag" >/dev/null
size=$(docker image inspect --format '{{.Size}}' "$tag")
say "made $tag ($((size / 1000000)) MB)"
