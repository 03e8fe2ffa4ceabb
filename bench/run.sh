#!/usr/bin/env bash
# The novakeys benchmark: builds release binaries, installs wrk if missing, runs bench/bench.py.
#   bash bench/run.sh            # full run (~7 min), writes bench/results/latest.md
#   bash bench/run.sh --scale    # also the 1,300,000 key pair scale step (~+1.5 min)
#   bash bench/run.sh --postgres # the same rows on PostgreSQL: one process, two behind HAProxy
#   bash bench/run.sh --smoke    # seconds; for tests (results to $BENCH_OUT or bench/results)
# NOVAKEYS_BIN / BASELINE_BIN / SIGNATURES_BIN use prebuilt binaries instead of building
# release ones.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q wrk >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi
command -v python3 >/dev/null || { echo "bench: python3 is needed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "bench: openssl is needed" >&2; exit 1; }

if [[ -z "${NOVAKEYS_BIN:-}" || -z "${BASELINE_BIN:-}" || -z "${SIGNATURES_BIN:-}" ]]; then
    echo "bench: building release binaries" >&2
    cargo build --release --quiet --bin novakeys --example bench_baseline --example bench_signatures
    target="${CARGO_TARGET_DIR:-$root/target}"
    NOVAKEYS_BIN="${NOVAKEYS_BIN:-$target/release/novakeys}"
    BASELINE_BIN="${BASELINE_BIN:-$target/release/examples/bench_baseline}"
    SIGNATURES_BIN="${SIGNATURES_BIN:-$target/release/examples/bench_signatures}"
fi

# --postgres: the rows on PostgreSQL, one process and two behind HAProxy (bench/postgres.py).
script=bench.py
for arg in "$@"; do [[ "$arg" == --postgres ]] && script=postgres.py; done
exec python3 "$root/bench/$script" --novakeys "$NOVAKEYS_BIN" --baseline "$BASELINE_BIN" \
    --signatures "$SIGNATURES_BIN" \
    --out "${BENCH_OUT:-$root/bench/results}" "$@"
