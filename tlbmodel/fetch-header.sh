#!/usr/bin/env bash
# Puts QEMU's plugin header (include/qemu/qemu-plugin.h) for the *installed* QEMU into
# DIR/include/qemu/qemu-plugin.h, taken from Debian's qemu source package (the orig tarball of
# the version that bookworm-backports ships). The header is cached in DIR: a second run with the
# same installed QEMU does nothing. The header is never committed to the repository.
#
#   fetch-header.sh DIR
#
# Needs a deb-src entry for bookworm-backports. When none exists it adds one, taking the mirror
# from the machine's existing apt configuration (no host name is written into the repository).
set -euo pipefail

out=${1:?usage: fetch-header.sh BUILD_DIR}
mkdir -p "$out/include/qemu"
hdr="$out/include/qemu/qemu-plugin.h"
stamp="$out/include/qemu/.qemu-version"

# Upstream version of the installed QEMU, e.g. 10.0.2 out of 1:10.0.2+ds-2+deb13u1~bpo12+1.
pkgver=$(dpkg-query -W -f='${Version}' qemu-system-riscv 2>/dev/null || true)
if [ -z "$pkgver" ]; then
  echo "fetch-header: qemu-system-riscv is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
upstream=${pkgver#*:}
upstream=${upstream%%[+-]*}

if [ -s "$hdr" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pkgver" ]; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

has_backports_src() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas: one with both deb-src in Types and bookworm-backports in Suites.
    awk 'BEGIN{RS=""; found=0}
         /(^|\n)Types:[^\n]*deb-src/ && /(^|\n)Suites:[^\n]*bookworm-backports/ {found=1}
         END{exit !found}' "$f" && return 0
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -Eq '^[[:space:]]*deb-src[[:space:]].*[[:space:]]bookworm-backports([[:space:]]|$)' "$f" && return 0
  done
  return 1
}

if ! has_backports_src; then
  mirror=""
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$f")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  if [ -z "$mirror" ]; then
    echo "fetch-header: no apt mirror found to add a bookworm-backports deb-src entry" >&2
    exit 1
  fi
  echo "fetch-header: adding a deb-src entry for bookworm-backports from $mirror" >&2
  $sudo tee /etc/apt/sources.list.d/bookworm-backports-src.sources >/dev/null <<SRC
Types: deb-src
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $sudo apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  # The .dsc and the Debian diff of a backport may 404 while the orig tarball still arrives, and
  # apt-get then exits non-zero: judge by what was downloaded, not by the exit status.
  # Run as the invoking user inside a private directory: no sandbox-user permission trouble.
  apt-get source --download-only -o APT::Sandbox::User="$(id -un)" \
    -t bookworm-backports qemu >apt-source.log 2>&1 || true
)
orig=$(ls "$work"/qemu_"$upstream"*.orig.tar.* 2>/dev/null | head -n1 || true)
if [ -z "$orig" ]; then
  # The archive may have moved on past the installed version: take what arrived (the plugin
  # checks the API version when QEMU loads it).
  orig=$(ls "$work"/qemu_*.orig.tar.* 2>/dev/null | head -n1 || true)
  [ -n "$orig" ] && echo "fetch-header: warning: installed QEMU is $upstream, got $(basename "$orig")" >&2
fi
if [ -z "$orig" ]; then
  echo "fetch-header: no qemu_${upstream}*.orig.tar.* arrived; apt-get said:" >&2
  cat "$work/apt-source.log" >&2
  if [ -z "$(apt-cache showsrc -t bookworm-backports qemu 2>/dev/null | head -n1)" ]; then
    echo "fetch-header: apt knows no qemu source package: run 'apt-get update'" >&2
  fi
  exit 1
fi

tar -xf "$orig" -C "$work" --wildcards --no-anchored 'include/qemu/qemu-plugin.h'
found=$(find "$work" -path '*/include/qemu/qemu-plugin.h' | head -n1)
if [ -z "$found" ]; then
  echo "fetch-header: $orig holds no include/qemu/qemu-plugin.h" >&2
  exit 1
fi
cp "$found" "$hdr.tmp"
mv "$hdr.tmp" "$hdr"
echo "$pkgver" >"$stamp"
echo "fetch-header: $(grep -m1 'define QEMU_PLUGIN_VERSION' "$hdr") from $(basename "$orig") -> $hdr" >&2
