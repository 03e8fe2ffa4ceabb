# shellcheck shell=bash
# Source me: small assertion helpers for the compat suites.
#
# Every check prints "ok   <what>" or "FAIL <what>" plus the evidence, and is counted;
# checks never stop the script (so one run shows every difference), except `must`, for steps
# the rest depends on. End the script with `finish <suite>`: it exits 1 if any check failed
# (or none ran).
#
#   run CMD...              run CMD; sets RC, OUT, ERR (trailing newlines stripped) and the
#                           files $OUT_FILE / $ERR_FILE (byte-exact)
#   expect_ok WHAT CMD...   run CMD, check it exits 0
#   expect_rc N WHAT CMD... run CMD, check it exits N
#   must WHAT CMD...        like expect_ok, but abort the suite if CMD fails
#   assert_eq WHAT ACTUAL EXPECTED
#   assert_ne WHAT ACTUAL UNEXPECTED
#   assert_contains WHAT HAYSTACK NEEDLE
#   assert_not_contains WHAT HAYSTACK NEEDLE
#   assert_match WHAT STRING ERE
#   assert_same_file WHAT FILE1 FILE2   byte for byte
#   finish SUITE

CHECKS=0
FAILURES=0
CHECK_TMP="$(mktemp -d)"
OUT_FILE="$CHECK_TMP/stdout"
ERR_FILE="$CHECK_TMP/stderr"
RC=0
OUT=""
ERR=""
LAST_CMD=""
trap 'rm -rf "$CHECK_TMP"' EXIT

section() { printf '\n== %s\n' "$*"; }

pass() {
    CHECKS=$((CHECKS + 1))
    printf 'ok   %s\n' "$1"
}

# fail WHAT [DETAIL...]
fail() {
    CHECKS=$((CHECKS + 1))
    FAILURES=$((FAILURES + 1))
    printf 'FAIL %s\n' "$1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/     | /'
    done
}

# The last command and what it printed, for failure messages.
evidence() {
    printf '$ %s\n(exit %s)\n--- stdout\n%s\n--- stderr\n%s' "$LAST_CMD" "$RC" "$OUT" "$ERR"
}

run() {
    LAST_CMD="$*"
    set +e
    "$@" >"$OUT_FILE" 2>"$ERR_FILE"
    RC=$?
    set -e
    OUT="$(cat "$OUT_FILE")"
    ERR="$(cat "$ERR_FILE")"
}

expect_ok() {
    local what="$1"
    shift
    run "$@"
    if [ "$RC" -eq 0 ]; then pass "$what"; else fail "$what (exit $RC, expected 0)" "$(evidence)"; fi
}

expect_rc() {
    local want="$1" what="$2"
    shift 2
    run "$@"
    if [ "$RC" -eq "$want" ]; then
        pass "$what"
    else
        fail "$what (exit $RC, expected $want)" "$(evidence)"
    fi
}

must() {
    local what="$1"
    shift
    run "$@"
    if [ "$RC" -eq 0 ]; then
        pass "$what"
    else
        fail "$what (exit $RC, expected 0; cannot continue)" "$(evidence)"
        finish "${SUITE:-compat}"
    fi
}

assert_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1" "expected: $3" "actual:   $2"
    fi
}

assert_ne() {
    if [ "$2" != "$3" ]; then
        pass "$1"
    else
        fail "$1" "expected anything but: $3"
    fi
}

assert_contains() {
    if [[ "$2" == *"$3"* ]]; then
        pass "$1"
    else
        fail "$1" "expected to contain: $3" "actual:" "$2"
    fi
}

assert_not_contains() {
    if [[ "$2" != *"$3"* ]]; then
        pass "$1"
    else
        fail "$1" "expected not to contain: $3" "actual:" "$2"
    fi
}

assert_match() {
    if [[ "$2" =~ $3 ]]; then
        pass "$1"
    else
        fail "$1" "expected to match: $3" "actual:" "$2"
    fi
}

assert_same_file() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1" "files differ: $2 $3" "--- $2" "$(od -c "$2" | tail -4)" "--- $3" "$(od -c "$3" | tail -4)"
    fi
}

finish() {
    printf '\n%s: %d checks, %d failed\n' "$1" "$CHECKS" "$FAILURES"
    if [ "$FAILURES" -ne 0 ] || [ "$CHECKS" -eq 0 ]; then
        exit 1
    fi
    exit 0
}
