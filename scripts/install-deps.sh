#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the harness need, when they are missing.
# Idempotent and quick when everything is already there. QEMU 10 comes from bookworm-backports,
# which is enabled from the mirror this machine's apt is already configured with.
set -euo pipefail

packages=(
  g++-riscv64-linux-gnu binutils-riscv64-linux-gnu gdb-multiarch
  python3-kconfiglib python3-pytest python3-pytest-xdist python3-pandas python3-matplotlib
  python3-pyelftools python3-tqdm python3-distributed libglib2.0-dev pkg-config make
)
backport_packages=(qemu-system-riscv opensbi)

have_all() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

qemu_is_10() {
  command -v qemu-system-riscv64 >/dev/null &&
    qemu-system-riscv64 --version | head -n1 | grep -Eq 'version (1[0-9])\.'
}

if have_all "${packages[@]}" && qemu_is_10; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# The mirror this machine already uses (never a host name written into the repository).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
  echo "install-deps: cannot find the apt mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2
  exit 1
fi

backports=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$backports" ]; then
  echo "install-deps: enabling bookworm-backports from $mirror"
  $sudo tee "$backports" >/dev/null <<SRC
Types: deb deb-src
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
$sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backport_packages[@]}"

if ! qemu_is_10; then
  echo "install-deps: qemu-system-riscv64 is not version 10 after installing from bookworm-backports:" >&2
  qemu-system-riscv64 --version >&2 || true
  exit 1
fi
