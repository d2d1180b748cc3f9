#!/usr/bin/env bash
# The base images the Dockerfile and docker-compose.yml name, made on this machine because no
# registry can be reached: debootstrap's minimal bookworm as debian:bookworm-slim; that plus gcc
# and this machine's own Rust toolchain as rust:1.95-bookworm; that plus Debian's redis-server as
# redis:7-bookworm; that plus python3 for the compose test's webhook receiver. Each root is made
# by debootstrap or chroot + apt-get, then imported with podman import.
# Each is made once per machine (kept in podman's storage, see podman.sh) and remade only when
# what it was made from changes (a label records it). Usage: bash tests/image/bases.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/image/podman.sh

say() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: FAILED: %s\n' "$*" >&2; exit 1; }

# The two images the Dockerfile starts FROM, and the one the compose file runs Redis with.
rust_image=$(awk 'toupper($1) == "FROM" && $2 ~ /^rust:/ { print $2; exit }' Dockerfile)
debian_image=$(awk 'toupper($1) == "FROM" && $2 ~ /^debian:/ { print $2; exit }' Dockerfile)
redis_image=$(awk '$1 == "image:" && $2 ~ /^redis:/ { print $2; exit }' docker-compose.yml)
[ -n "$rust_image" ] && [ -n "$debian_image" ] && [ -n "$redis_image" ] \
  || die "cannot read the base images from Dockerfile / docker-compose.yml"
suite=${debian_image#debian:}; suite=${suite%-slim}

# The Debian mirror apt is configured with (deb822 first, then sources.list).
mirror=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && u != "" && $0 !~ /security/ { print u; exit }' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ && $3 ~ /^[a-z]+$/ { print $2; exit }' \
  /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

label_of() { podman image inspect --format '{{index .Labels "bullring.standin"}}' "$1" 2>/dev/null || true; }

# `import_root DIR IMAGE KEY CHANGE...`: DIR's files as IMAGE, with the Dockerfile-style
# CHANGEs and KEY as its label.
import_root() {
  local root=$1 name=$2 key=$3 change args=()
  shift 3
  for change in "$@" "LABEL bullring.standin=\"$key\""; do args+=(--change "$change"); done
  tar -C "$root" --numeric-owner -c . | podman import -q "${args[@]}" - "$name" >/dev/null
}
# `root_of NAME`: a copy of the debian stand-in's files in $work/NAME.
root_of() {
  local box
  mkdir -p "$work/$1"
  box=$(podman create "$debian_image" true)
  podman export "$box" | tar -C "$work/$1" -x
  podman rm "$box" >/dev/null
}
# `apt_in NAME PACKAGE...`: apt-get install in $work/NAME by chroot (starting no service), then
# apt's downloads and indexes removed.
apt_in() {
  local root=$work/$1
  shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  mount --bind /proc "$root/proc"
  mount --bind /dev "$root/dev"
  chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "$@"' apt "$@" >"$work/apt.log" 2>&1 \
    || { tail -n 30 "$work/apt.log" >&2; die "apt-get install $* in the stand-in root"; }
  umount "$root/proc" "$root/dev"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root/etc/resolv.conf" "$root/usr/sbin/policy-rc.d"
}

work=$(mktemp -d "$state/bases.XXXXXX")
cleanup() {
  findmnt -rn -o TARGET | { grep "^$work/" || true; } | sort -r | xargs -r umount
  rm -rf "$work"
}
trap cleanup EXIT

# --- debian:bookworm-slim --------------------------------------------------------------------
debian_key="debootstrap --variant=minbase $suite $mirror, slim"
if [ "$(label_of "$debian_image")" != "$debian_key" ]; then
  say "making $debian_image: $debian_key"
  start=$SECONDS
  debootstrap --variant=minbase "$suite" "$work/debian" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap $suite from $mirror"; }
  rm -rf "$work/debian"/var/cache/apt/archives/*.deb "$work/debian"/var/cache/apt/*.bin \
    "$work/debian"/var/lib/apt/lists/* "$work/debian"/var/log/* "$work/debian/etc/resolv.conf" \
    "$work/debian/etc/hostname"
  # As in the official slim images: apt keeps no package caches, dpkg installs no documentation.
  cat >"$work/debian/etc/apt/apt.conf.d/docker-clean" <<'CONF'
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
CONF
  printf 'path-exclude /usr/share/%s/*\n' doc man info locale groff lintian linda \
    >"$work/debian/etc/dpkg/dpkg.cfg.d/docker-slim"
  printf 'path-include /usr/share/doc/*/copyright\n' >>"$work/debian/etc/dpkg/dpkg.cfg.d/docker-slim"
  rm -rf "$work/debian"/usr/share/{man,info,groff,lintian,linda}/*
  find "$work/debian/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  import_root "$work/debian" "$debian_image" "$debian_key" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["bash"]'
  say "$debian_image made in $((SECONDS - start)) s"
fi

# --- rust:1.95-bookworm ----------------------------------------------------------------------
# The toolchain cargo here runs (rustup's default), under its version's name, as the official
# image installs it: RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo on PATH.
sysroot=$(rustc --print sysroot)
version=$(rustc --version | awk '{ print $2 }')
host=$(rustc -vV | awk '$1 == "host:" { print $2 }')
rust_key="$(label_of "$debian_image") + gcc libc6-dev ca-certificates + $(rustc --version), CARGO_HTTP_CAINFO"
if [ "$(label_of "$rust_image")" != "$rust_key" ]; then
  say "making $rust_image: $rust_key"
  start=$SECONDS
  root_of rust
  apt_in rust gcc libc6-dev ca-certificates
  root=$work/rust
  # Debian's CA bundle stays (the Dockerfile copies it into the runtime image); cargo is given
  # the bundle this machine's own tools trust, so that it reaches the crate registry as here.
  install -D -m 0644 "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$root/usr/local/share/ci/ca.crt"
  toolchain="$version-$host"
  mkdir -p "$root/usr/local/rustup/toolchains/$toolchain" "$root/usr/local/cargo/bin"
  tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$root/usr/local/rustup/toolchains/$toolchain" -x
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" \
    >"$root/usr/local/rustup/settings.toml"
  install -m 0755 "$(command -v rustup)" "$root/usr/local/cargo/bin/rustup"
  for tool in cargo rustc rustdoc; do ln -s rustup "$root/usr/local/cargo/bin/$tool"; done
  import_root "$root" "$rust_image" "$rust_key" \
    'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV RUSTUP_HOME=/usr/local/rustup' 'ENV CARGO_HOME=/usr/local/cargo' "ENV RUST_VERSION=$version" \
    'ENV CARGO_HTTP_CAINFO=/usr/local/share/ci/ca.crt' 'CMD ["bash"]'
  say "$rust_image made in $((SECONDS - start)) s"
fi

# --- redis:7-bookworm ------------------------------------------------------------------------
# Debian's redis-server (7.0), run as the official image runs it: as the redis user in /data,
# protected mode off (tests/image/redis-entrypoint.sh), so that other containers can connect.
redis_key="$(label_of "$debian_image") + redis-server + $(sha256sum tests/image/redis-entrypoint.sh | cut -c1-16)"
if [ "$(label_of "$redis_image")" != "$redis_key" ]; then
  say "making $redis_image"
  start=$SECONDS
  root_of redis
  apt_in redis redis-server
  install -m 0755 tests/image/redis-entrypoint.sh "$work/redis/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$work/redis/data"
  chroot "$work/redis" chown redis:redis /data
  import_root "$work/redis" "$redis_image" "$redis_key" 'WORKDIR /data' 'USER redis' 'EXPOSE 6379' \
    'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' 'CMD ["redis-server"]'
  say "$redis_image made in $((SECONDS - start)) s"
fi

# --- the compose test's "app" ----------------------------------------------------------------
# The webhook receiver (tests/image/webhook.py) the runner's workers in deploy/bullring.toml
# call at http://app:8080/jobs/<queue>, on Debian's python3.
app_image=localhost/bullring-ci-app:latest
app_key="$(label_of "$debian_image") + python3 + $(sha256sum tests/image/webhook.py | cut -c1-16)"
if [ "$(label_of "$app_image")" != "$app_key" ]; then
  say "making $app_image"
  start=$SECONDS
  root_of app
  apt_in app python3
  install -m 0644 tests/image/webhook.py "$work/app/usr/local/bin/webhook.py"
  import_root "$work/app" "$app_image" "$app_key" 'USER 10002:10002' 'EXPOSE 8080' \
    'ENTRYPOINT ["python3", "/usr/local/bin/webhook.py"]' 'CMD ["0.0.0.0", "8080"]'
  say "$app_image made in $((SECONDS - start)) s"
fi
say "base images: $debian_image, $rust_image, $redis_image, $app_image"
