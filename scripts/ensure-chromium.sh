#!/usr/bin/env bash
# Make sure Chromium and chromedriver are installed (the e2e tests drive /usr/bin/chromium).
# Idempotent: does nothing when /usr/bin/chromium already exists.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "ensure-chromium: /usr/bin/chromium is missing and sudo is not available;" >&2
        echo "ensure-chromium: install it as root: apt-get install -y chromium chromium-driver" >&2
        exit 1
    fi
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
}

echo "ensure-chromium: installing chromium and chromium-driver..." >&2
if ! install; then
    echo "ensure-chromium: install failed; running apt-get update and retrying..." >&2
    $SUDO apt-get update -qq >/dev/null
    install
fi

if [ ! -x /usr/bin/chromium ]; then
    echo "ensure-chromium: /usr/bin/chromium is still missing after installation" >&2
    exit 1
fi
