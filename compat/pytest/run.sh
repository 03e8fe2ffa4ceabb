#!/usr/bin/env bash
# The Python package and its pytest plugin (python/): `pip install ./python` into a fresh
# venv builds the crate with maturin and installs the `novakeys` binary; then pytest, with the
# plugin the package registered, runs python/tests against that binary (NOVAKEYS_BIN unset,
# no --novakeys-binary). The server the harness started is not used: the plugin starts its own.
#
# Build cache: CARGO_TARGET_DIR=$NOVAKEYS_CACHE/pytest-target, so a re-run only relinks what
# changed. The wheel is built with the dev profile (MATURIN_PEP517_ARGS below): the
# dependencies are optimised in dev builds anyway (Cargo.toml), and skipping the optimisation
# of the crate itself saves minutes on a cold, 2-core CI machine. `pip install ./python`
# without it builds release, as users get it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
fail() { echo "compat/pytest: FAILED: $*" >&2; exit 1; }
[ -n "${NOVAKEYS_WORK:-}" ] || fail "environment variable NOVAKEYS_WORK is not set"
cache="${NOVAKEYS_CACHE:-$repo/target/compat}"
mkdir -p "$cache"
# The plugin must find the binary the wheel installed, not the one the harness built (whose
# build seeds the wheel's build cache, below).
harness_bin="${NOVAKEYS_BIN:-}"
unset NOVAKEYS_BIN
command -v cargo >/dev/null || fail "cargo is not on PATH (the wheel build compiles the crate)"

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "compat/pytest: python3 venv support missing; installing python3-venv" >&2
    flock "$cache/apt.lock" sh -c 'apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 python3-venv' >&2 \
        || fail "cannot create a Python venv; install python3-venv (apt-get install python3-venv)"
fi

work="$NOVAKEYS_WORK/pytest"
venv="$work/venv"
rm -rf "$work"
mkdir -p "$work"
python3 -m venv "$venv"

# The pinned stock client and test runner (one place for the pins: compat/python/).
pins="$work/pins.txt"
grep -E '^(openstacksdk|keystoneauth1)==' "$repo/compat/python/requirements.txt" >"$pins"
grep -E '^(pytest|iniconfig|pluggy)==' "$repo/compat/python/test-requirements.txt" >>"$pins"
[ "$(wc -l <"$pins")" -eq 5 ] || fail "expected 5 pins from compat/python/*requirements.txt, got: $(cat "$pins")"
# The build backend, pinned for the isolated build environment pip makes.
echo "maturin==1.16.0" >"$work/build-constraints.txt"

export PIP_CACHE_DIR="$cache/pytest-pip" PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1
# Two runs of this suite at once would share the cargo target and pip cache: one at a time.
exec 9>"$cache/pytest.lock"
flock 9
started=$SECONDS
"$venv/bin/pip" install -q -r "$pins" || fail "pip could not install $(tr '\n' ' ' <"$pins")"
echo "compat/pytest: pinned clients installed in $((SECONDS - started))s"
started=$SECONDS
# A cold cache starts from the dev build `cargo test` just made (the binary under test sits in
# it): the optimised dependencies are then not compiled a second time, and cargo rebuilds
# whatever does not match. Copied, never shared: rebuilding in place would replace the binary
# the other suites are running.
built="$(dirname "$harness_bin")"
if [ ! -d "$cache/pytest-target/debug" ] && [ "$(basename "$built")" = debug ] && [ -d "$built/deps" ]; then
    mkdir -p "$cache/pytest-target/debug"
    cp -a "$built/.fingerprint" "$built/build" "$built/deps" "$cache/pytest-target/debug/"
    echo "compat/pytest: build cache seeded from $built in $((SECONDS - started))s"
fi
(
    cd "$repo"
    CARGO_TARGET_DIR="$cache/pytest-target" MATURIN_PEP517_ARGS="--profile dev" \
        PIP_CONSTRAINT="$work/build-constraints.txt" \
        "$venv/bin/pip" install -q ./python
) || fail "pip install ./python failed"
echo "compat/pytest: pip install ./python (maturin build) took $((SECONDS - started))s"
# A wheel built from it, in a venv with pytest and no openstacksdk (the plugin must not need it).
nosdk="$work/venv-nosdk"
python3 -m venv "$nosdk"
grep -E '^(pytest|iniconfig|pluggy)==' "$pins" >"$work/pins-nosdk.txt"
"$nosdk/bin/pip" install -q -r "$work/pins-nosdk.txt" || fail "pip could not install pytest"
(
    cd "$repo"
    CARGO_TARGET_DIR="$cache/pytest-target" MATURIN_PEP517_ARGS="--profile dev" \
        PIP_CONSTRAINT="$work/build-constraints.txt" \
        "$venv/bin/pip" wheel -q --no-deps -w "$work/wheels" ./python
) || fail "pip wheel ./python failed"
"$nosdk/bin/pip" install -q "$work"/wheels/novakeys-*.whl || fail "pip could not install the wheel"
flock -u 9
exec 9>&-

# What was installed: the binary on the venv's PATH, the package outside the source tree.
[ -x "$venv/bin/novakeys" ] || fail "the wheel did not install $venv/bin/novakeys"
"$venv/bin/novakeys" --version
pkg="$(cd "$work" && "$venv/bin/python" -c 'import novakeys; print(novakeys.__file__)')"
case "$pkg" in "$venv"/*) ;; *) fail "novakeys imports from $pkg, not from the venv" ;; esac
(cd "$work" && "$venv/bin/python" -c '
import importlib.metadata as m
eps = [e.value for e in m.entry_points(group="pytest11") if e.name == "novakeys"]
assert eps == ["novakeys.pytest_plugin"], eps
') || fail "the package registers no pytest11 entry point novakeys = novakeys.pytest_plugin"
# Nothing the build writes may land in the source tree.
stray="$(find "$repo/python" -maxdepth 2 \( -name target -o -name '*.egg-info' -o -name build -o -name dist \) -print)"
[ -z "$stray" ] || fail "the build left files in python/: $stray"

out="$work/pytest.out"
cd "$repo"
set +e
PATH="$venv/bin:$PATH" "$venv/bin/pytest" -p no:cacheprovider -v python/tests 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || fail "pytest python/tests exited $status"
grep -qx "novakeys binary: $venv/bin/novakeys" "$out" \
    || fail "the plugin did not use the binary the wheel installed ($venv/bin/novakeys): $(grep '^novakeys binary' "$out")"
grep -Eq '^=+ [0-9]+ passed' "$out" || fail "pytest reported no passed tests"
# (pipefail: the pipeline fails when pytest does)
PATH="$nosdk/bin:$PATH" "$nosdk/bin/pytest" -p no:cacheprovider -v python/tests_nosdk 2>&1 | tee "$out" \
    || fail "pytest python/tests_nosdk (no openstacksdk) failed"
grep -qx "novakeys binary: $nosdk/bin/novakeys" "$out" || fail "the no-sdk run did not use $nosdk/bin/novakeys"
# --novakeys-seed reaches the server, and each test's reset rewinds it.
PATH="$venv/bin:$PATH" "$venv/bin/pytest" -p no:cacheprovider -v --novakeys-seed 42 python/tests_seeded \
    || fail "pytest --novakeys-seed 42 python/tests_seeded failed"
echo "compat/pytest: ok"
