#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build, run and test dependency from Debian 12 packages. Idempotent: only
# missing packages are installed, and apt's lists are refreshed only when something is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libsofia-sip-ua-dev libpqxx-dev libpq-dev libspdlog-dev libfmt-dev libcli11-dev
    libjemalloc-dev
    libgtest-dev libgmock-dev libboost-dev libboost-system-dev nlohmann-json3-dev
    postgresql-15 postgresql-client-15 sip-tester python3 procps iproute2 curl
    chromium
)
# The browser test (tests/browser) runs playwright-core under node and installs it with npm ci:
# Debian's nodejs and npm, unless a node and npm are already on PATH (e.g. from NodeSource).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (apt-get install)" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
