#!/usr/bin/env bash
# Runs every example workflow in this directory (*.sh except this file), each in its own
# scratch directory, as the `demo` user of the novakeys fixtures. Run by tests/compat.rs,
# which starts the server and sets OS_AUTH_URL, OS_REGION_NAME and NOVAKEYS_WORK.
set -euo pipefail
wf_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../python/venv.sh
source "$wf_dir/../python/venv.sh"
# shellcheck source=SCRIPTDIR/../python/cloud.sh
source "$wf_dir/../python/cloud.sh"
export OS_CLOUD=demo

failed=()
ran=0
for example in "$wf_dir"/*.sh; do
    [ "$(basename "$example")" = run.sh ] && continue
    name="$(basename "$example" .sh)"
    mkdir -p "$NOVAKEYS_WORK/$name"
    printf '\n##### %s\n' "$name"
    ran=$((ran + 1))
    if ! (cd "$NOVAKEYS_WORK/$name" && "$example"); then
        failed+=("$name")
    fi
done
printf '\nworkflows: %d run, %d failed %s\n' "$ran" "${#failed[@]}" "${failed[*]:-}"
[ "$ran" -gt 0 ] && [ "${#failed[@]}" -eq 0 ]
