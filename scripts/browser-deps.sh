#!/usr/bin/env bash
# Installs what the staff console's browser tests need when it is missing: Debian's
# `chromium` and `chromium-driver` (headless Chromium and /usr/bin/chromedriver) and a
# CJK font so that screenshots of the Chinese pages are readable. Idempotent; run as root
# on a fresh Debian 12 machine. Without root it only says what is missing.
set -euo pipefail

need=()
[ -x /usr/bin/chromedriver ] || need+=(chromium chromium-driver)
[ -x /usr/bin/chromium ] || [[ " ${need[*]-} " == *" chromium "* ]] || need+=(chromium)
# (grep reads all of fc-list's output: with -q it could stop early and, under pipefail,
# turn fc-list's SIGPIPE into a false "missing".)
if ! fc-list 2>/dev/null | grep -iE 'Noto Sans CJK|WenQuanYi|Droid Sans Fallback' >/dev/null; then
    need+=(fonts-noto-cjk)
fi
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
echo "browser tests: installing ${need[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    if [ "${need[*]}" = "fonts-noto-cjk" ]; then
        echo "warning: no CJK font (fonts-noto-cjk); screenshots will show boxes for Chinese text" >&2
        exit 0
    fi
    echo "error: ${need[*]} missing and this script is not root; run: apt-get install ${need[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
[ -x /usr/bin/chromedriver ] || { echo "error: chromium-driver installed but /usr/bin/chromedriver not found" >&2; exit 1; }
