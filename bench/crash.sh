#!/bin/sh
# Crash-safety soak: runs `novakeys serve` on one SQLite file, imports and deletes key pairs from
# concurrent clients, kill -9s the server after a random number of acknowledged writes, restarts
# it, and checks that every acknowledged write is there (and every acknowledged delete gone),
# that nothing half-written is visible, and that `PRAGMA integrity_check` is `ok`. With `full`,
# each kill also waits until the server has written the WAL ahead (zeros past its end).
#
#   bench/crash.sh [ROUNDS] [normal|full]      (defaults: 20 normal)
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-20}
durability=${2:-normal}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
NOVAKEYS_CRASH_ROUNDS=$rounds NOVAKEYS_CRASH_DURABILITY=$durability \
    cargo test --quiet --test it reliability::crash_many -- --ignored --nocapture --exact \
    >"$out" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    cat "$out"
    echo "crash: FAILED (durability=$durability rounds=$rounds)"
    exit "$status"
fi
grep '^crash:' "$out"
