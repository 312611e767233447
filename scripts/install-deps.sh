#!/usr/bin/env bash
# install-deps.sh -- the Debian 12 packages mtrk builds, tests and demos with. Idempotent: calls
# apt-get only when something is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libabsl-dev libssl-dev libpqxx-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libasio-dev libc-ares-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev libsqlite3-dev libzstd-dev zlib1g-dev libjemalloc-dev
  postgresql postfix swaks openssl procps iproute2 dnsmasq-base clang libclang-rt-14-dev
  chromium fonts-dejavu-core curl python3 python3-yaml
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
# Postfix is a library of real MTA binaries for our lab tests: no system mail service is set up.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The postgresql package may start a system cluster; mtrk never uses it.
