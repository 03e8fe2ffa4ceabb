#!/usr/bin/env bash
# Source me after venv.sh: adds compat/python/test-requirements.txt to the cached venv (once
# per version of that file), under the same lock venv.sh takes.
set -euo pipefail
_td_req="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/test-requirements.txt"
_td_mark="$NOVAKEYS_VENV/.test-req-$(sha256sum "$_td_req" | cut -c1-12)"
if [ ! -f "$_td_mark" ]; then
    exec 8>"$(dirname "$NOVAKEYS_VENV")/venv.lock"
    flock 8
    if [ ! -f "$_td_mark" ]; then
        "$NOVAKEYS_VENV/bin/pip" install -q --disable-pip-version-check -r "$_td_req" >&2 || {
            echo "compat: FAILED: pip could not install $_td_req into $NOVAKEYS_VENV" >&2
            exit 1
        }
        touch "$_td_mark"
    fi
    flock -u 8
    exec 8>&-
fi
unset _td_req _td_mark
