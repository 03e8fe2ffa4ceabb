#!/usr/bin/env bash
# TWCC's own CLI, twcc-cli 0.6.1 from PyPI, unmodified, against novakeys' TWCC front:
# `twccli mk/ls/rm key` through the life cycle and the errors a user meets, raw-HTTP checks of
# what the CLI does not exercise (http_checks.py), and cross-checks both ways with the
# `openstack` CLI as the same user.
#
# Needs (set by tests/compat.rs): NOVAKEYS_BIN, NOVAKEYS_TWCC_URL, NOVAKEYS_WORK, OS_AUTH_URL,
# OS_REGION_NAME.
# Installs (cached): venv-twcc-* (requirements.txt here) and the shared OpenStack client venv.
# By hand: run the server, export those variables, then `bash compat/twcc/run.sh`.
set -euo pipefail
twcc_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE=twcc
# shellcheck source=compat/python/check.sh
source "$twcc_dir/../python/check.sh"
for v in NOVAKEYS_BIN NOVAKEYS_TWCC_URL NOVAKEYS_WORK OS_AUTH_URL OS_REGION_NAME; do
    [ -n "${!v:-}" ] || { echo "compat/twcc: FAILED: environment variable $v is not set" >&2; exit 1; }
done
for tool in python3:python3 curl:curl ssh-keygen:openssh-client; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || {
        echo "compat/twcc: FAILED: '${tool%%:*}' not found; install it (apt-get install ${tool#*:})" >&2
        exit 1
    }
done
url="${NOVAKEYS_TWCC_URL%/}"
site=openstack-taichung-default-2

# shellcheck source=compat/twcc/venv.sh
source "$twcc_dir/venv.sh"
# shellcheck source=compat/python/venv.sh
source "$twcc_dir/../python/venv.sh"
# shellcheck source=compat/python/cloud.sh
source "$twcc_dir/../python/cloud.sh"
export OS_CLOUD=demo
# shellcheck source=compat/twcc/cli.sh
source "$twcc_dir/cli.sh"

work="$NOVAKEYS_WORK/twcc"
rm -rf "$work"
mkdir -p "$work/home"
cd "$work"
# Hermetic: the CLI's start-up may not reach pypi.org, ipinfo.io or Google Analytics, and
# nothing may fall back to the real ~/.twcc_data.
export HOME="$work/home"
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1,localhost
export HTTP_PROXY="$http_proxy" HTTPS_PROXY="$https_proxy" NO_PROXY="$no_proxy"
unset _TWCC_API_KEY_ _TWCC_PROJECT_CODE_ TWCC_CLI_STAGE User_Agent TWCC_DATA_PATH

# raw METHOD PATH [API_KEY] [BODY]: one request with curl; sets RAW_STATUS, RAW_CTYPE, RAW_BODY.
raw() {
    local args=(-s -o "$work/raw.body" -w '%{http_code} %{content_type}' -X "$1"
        -H "X-API-HOST: $site" -H 'Content-Type: application/json')
    [ -n "${3:-}" ] && args+=(-H "x-API-KEY: $3")
    [ -n "${4:-}" ] && args+=(--data-binary "$4")
    local out
    out="$(curl "${args[@]}" "$url$2" || true)"
    RAW_STATUS="${out%% *}"
    RAW_CTYPE="${out#* }"
    RAW_BODY="$(cat "$work/raw.body" 2>/dev/null || true)"
}
# pyj EXPR: EXPR (Python, the JSON on stdin bound to j) printed; "" for None.
# Never fails (a failing command substitution would stop the suite): prints <...> instead.
pyj() {
    python3 -c 'import json, sys
text = sys.stdin.read()
try:
    j = json.loads(text)
    v = eval(sys.argv[1])
except Exception as e:
    v = "<%s of %r: %s>" % (sys.argv[1], text[:300], e)
print("" if v is None else v)' "$1"
}
# taipei UTC_TIME: what twcc-cli shows for create_time, "YYYY-MM-DD HH:MM:SS" in Asia/Taipei.
taipei() {
    python3 -c 'import datetime, sys
try:
    t = datetime.datetime.strptime(sys.argv[1][:19], "%Y-%m-%dT%H:%M:%S")
    print((t + datetime.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S"))
except ValueError:
    print("<not a time: %r>" % sys.argv[1])' "$1"
}
no_traceback() { # WHAT: the last command printed no Python traceback (a crash, not an error)
    assert_not_contains "$1: no traceback" "$ERR$OUT" "Traceback"
}
pub2() { awk '{print $1, $2}' "$@"; }

section "setup"
raw POST /_novakeys/reset "" '{}'
assert_eq "POST $url/_novakeys/reset -> 204" "$RAW_STATUS" 204
# The CLI's data folders, one per user, written by `novakeys credentials --cloud twcc`. It reads
# the fixture API keys from a store: a throwaway one here (its fixtures are the server's), with
# --twcc-bind set to the server's TWCC address so that the host line it prints is the server's.
creds() {
    "$NOVAKEYS_BIN" credentials --cloud twcc --db "$work/credentials.db" --twcc-bind "${url#http://}" "$@"
}
for who in demo admin reader; do
    must "novakeys credentials --cloud twcc --user $who --data-path $work/$who" creds --user "$who" --data-path "$work/$who"
done
assert_eq "it prints export TWCC_DATA_PATH and the host line" "$OUT" \
"export TWCC_DATA_PATH='$work/reader'
# twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:
#   host: \"$url\""
host="$(sed -n 's/^#   host: "\(.*\)"$/\1/p' <<<"$OUT")"
assert_eq "... the credential file is mode 600" "$(stat -c %a "$work/reader/credential")" 600
assert_eq "... log/ is there" "$(test -d "$work/reader/log" && echo yes || echo no)" yes
assert_contains "... the release feed names 0.6.1" "$(cat "$work/reader/releases.xml")" "<title>0.6.1</title>"
# A data folder whose API key novakeys does not know.
must "novakeys credentials --cloud twcc --user demo --data-path $work/bogus" creds --user demo --data-path "$work/bogus"
sed -i "s/^  twcc_api_key: .*/  twcc_api_key: 'nk-twcc-no-such-key'/" "$work/bogus/credential"
assert_contains "... with its API key replaced" "$(cat "$work/bogus/credential")" "twcc_api_key: 'nk-twcc-no-such-key'"
twcc_cli_install "$host" "$work/cli"
export TWCC_DATA_PATH="$work/demo"
data="$TWCC_DATA_PATH"
echo "twccli: $(command -v twccli) (TWCC_API.yaml host: $host)"
expect_ok "the run's twccli package is the copy, with production.host = $url" env PYTHONPATH="$work/cli/site" \
    "$TWCC_VENV/bin/python" -c 'from twccli.twcc.session import Session2 as S; print(S.PackageYaml); print(S._getTwccApiHost())'
assert_eq "... PackageYaml and host" "$OUT" "$work/cli/site/twccli/yaml/TWCC_API.yaml
$url"
expect_ok "the cached venv stays pristine (shared by parallel runs)" env -u PYTHONPATH "$TWCC_VENV/bin/python" \
    -c 'from twccli.twcc.session import Session2 as S; print(S._getTwccApiHost())'
assert_eq "... its host is still TWCC's" "$OUT" "https://apigateway.twcc.ai"
expect_ok "twccli config version" twccli config version
assert_eq "... reads the data folder and says 0.6.1" "$OUT" "[TWCCLI] This version is 0.6.1"

section "mk key -n key1: the private key is saved as key1.pem, mode 600"
must "twccli mk key -n key1" twccli mk key -n key1
assert_eq "... says where" "$OUT" "Your keypair is in \`$data/key1.pem\` with mode 600"
assert_eq "key1.pem is mode 600" "$(stat -c %a "$data/key1.pem")" 600
assert_match "key1.pem is a PEM private key" "$(head -n1 "$data/key1.pem")" '^-----BEGIN [A-Z ]*PRIVATE KEY-----$'
assert_match "... ending with its END line" "$(tail -n1 "$data/key1.pem")" '^-----END [A-Z ]*PRIVATE KEY-----$'
must "ssh-keygen -y -f key1.pem" ssh-keygen -y -f "$data/key1.pem"
pub1="$(pub2 <<<"$OUT")"
printf '%s\n' "$pub1" >key1.pub
fp1="$(md5_fingerprint key1.pub)"

section "ls key: the table and -json"
expect_ok "twccli ls key" twccli ls key
assert_match "the table has name and fingerprint columns" "$OUT" '\| name +\| fingerprint +\|'
assert_match "key1 is listed with its fingerprint" "$OUT" "\| key1 +\| $fp1 +\|"
no_traceback "ls key"
expect_ok "twccli ls key -json" twccli ls key -json
list_json="$OUT"
assert_eq "-json: exactly key1 (fresh server)" "$(pyj '[k["name"] for k in j]' <<<"$list_json")" "['key1']"
assert_eq "-json: key1's fingerprint" "$(pyj 'j[0]["fingerprint"]' <<<"$list_json")" "$fp1"
assert_eq "-json: platform and user are there, user has id/display_name/email/username" \
    "$(pyj '(isinstance(j[0]["platform"], str), sorted(j[0]["user"]), j[0]["user"]["username"])' <<<"$list_json")" \
    "(True, ['display_name', 'email', 'id', 'username'], 'demo')"

section "ls key -n key1: the details"
raw GET "/api/v2/$site/keypairs/key1/" nk-twcc-demo-key-0001
assert_eq "GET /api/v2/$site/keypairs/key1/ (curl) -> 200" "$RAW_STATUS" 200
created="$(pyj 'j["create_time"]' <<<"$RAW_BODY")"
assert_match "create_time is UTC with six fractional digits and Z" "$created" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$'
shown="$(taipei "$created")"
expect_ok "twccli ls key -n key1" twccli ls key -n key1
assert_match "the table has name, create_time, fingerprint, user" "$OUT" \
    '\| name +\| create_time +\| fingerprint +\| user +\|'
assert_match "key1's row: create_time in Asia/Taipei ($shown), fingerprint, user" "$OUT" \
    "\| key1 +\| $shown +\| $fp1 +\| \{.*'username': 'demo'.*\} +\|"
expect_ok "twccli ls key -n key1 -json" twccli ls key -n key1 -json
assert_eq "-json: one object, key1" "$(pyj '[k["name"] for k in j]' <<<"$OUT")" "['key1']"
assert_eq "-json: create_time as the CLI shows it" "$(pyj 'j[0]["create_time"]' <<<"$OUT")" "$shown"
assert_eq "-json: fingerprint" "$(pyj 'j[0]["fingerprint"]' <<<"$OUT")" "$fp1"
assert_eq "-json: public_key is the public half of key1.pem (ssh-keygen -y)" \
    "$(pyj 'j[0]["public_key"]' <<<"$OUT" | pub2)" "$pub1"
expect_ok "openstack keypair show --public-key key1 (demo)" openstack keypair show --public-key key1
assert_eq "... the same public key" "$(pub2 <<<"$OUT")" "$pub1"
expect_ok "openstack keypair list -f value -c Name -c Fingerprint" openstack keypair list -f value -c Name -c Fingerprint
assert_contains "... lists key1 with the same fingerprint" "$OUT" "key1 $fp1"

section "mk key -n key1 again"
cp "$data/key1.pem" key1.pem.orig
expect_ok "twccli mk key -n key1 (key1.pem exists)" twccli mk key -n key1
assert_eq "... the CLI refuses locally" "$OUT" "Keypairs exists in $data/key1.pem"
assert_same_file "... key1.pem is untouched" "$data/key1.pem" key1.pem.orig
mv "$data/key1.pem" key1.pem.aside
expect_rc 1 "twccli mk key -n key1 (no local key1.pem: the server refuses)" twccli mk key -n key1
assert_eq "... [TWCC-CLI] Error-Keypair already exists." "$OUT" "[TWCC-CLI] Error-Keypair already exists."
no_traceback "duplicate"
assert_eq "... no key1.pem was written" "$(test -e "$data/key1.pem" && echo yes || echo no)" no
mv key1.pem.aside "$data/key1.pem"
expect_ok "twccli ls key -json" twccli ls key -json
assert_eq "... key1 is unchanged" "$(pyj '[(k["name"], k["fingerprint"]) for k in j]' <<<"$OUT")" "[('key1', '$fp1')]"

section "mk key -n key2 -pub: import a public key"
ssh-keygen -q -t ed25519 -N '' -C me@laptop -f id
must "twccli mk key -n key2 -pub \"\$(cat id.pub)\"" twccli mk key -n key2 -pub "$(cat id.pub)"
assert_eq "... says where" "$OUT" "Your keypair is in \`$data/key2.pem\` with mode 600"
assert_eq "key2.pem is mode 600" "$(stat -c %a "$data/key2.pem")" 600
assert_not_contains "key2.pem holds no private key (there is none for an import)" "$(cat "$data/key2.pem")" "PRIVATE KEY"
fp2="$(md5_fingerprint id.pub)"
expect_ok "twccli ls key -n key2 -json" twccli ls key -n key2 -json
assert_eq "... public_key is id.pub, verbatim" "$(pyj 'j[0]["public_key"]' <<<"$OUT")" "$(cat id.pub)"
assert_eq "... fingerprint is id.pub's MD5" "$(pyj 'j[0]["fingerprint"]' <<<"$OUT")" "$fp2"
expect_ok "twccli ls key" twccli ls key
assert_match "key1 is listed" "$OUT" "\| key1 +\| $fp1 +\|"
assert_match "key2 is listed" "$OUT" "\| key2 +\| $fp2 +\|"
expect_ok "openstack keypair list -f value -c Name -c Fingerprint" openstack keypair list -f value -c Name -c Fingerprint
assert_contains "... lists key2 with the same fingerprint" "$OUT" "key2 $fp2"

section "made by openstack, seen by twccli"
ssh-keygen -q -t rsa -b 2048 -N '' -C os@laptop -f os_rsa
expect_ok "openstack keypair create --public-key os_rsa.pub oskey" openstack keypair create --public-key os_rsa.pub oskey
expect_ok "openstack keypair create osgen > osgen.pem" openstack keypair create osgen
cp "$OUT_FILE" osgen.pem
chmod 600 osgen.pem
fpos="$(md5_fingerprint os_rsa.pub)"
fpgen="$(ssh-keygen -y -f osgen.pem >osgen.pub && md5_fingerprint osgen.pub || echo "<osgen.pem unreadable>")"
expect_ok "twccli ls key" twccli ls key
assert_match "oskey is listed with its fingerprint" "$OUT" "\| oskey +\| $fpos +\|"
assert_match "osgen is listed with its fingerprint" "$OUT" "\| osgen +\| $fpgen +\|"
expect_ok "twccli ls key -n oskey -json" twccli ls key -n oskey -json
assert_eq "... public_key is os_rsa.pub" "$(pyj 'j[0]["public_key"]' <<<"$OUT")" "$(cat os_rsa.pub)"
assert_match "... create_time as the CLI shows it" "$(pyj 'j[0]["create_time"]' <<<"$OUT")" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'
expect_ok "twccli rm key -n oskey -f" twccli rm key -n oskey -f
assert_eq "... Keypair: oskey deleted." "$OUT" "Keypair: oskey deleted."
expect_ok "openstack keypair list -f value -c Name" openstack keypair list -f value -c Name
assert_not_contains "... openstack no longer lists oskey" "$OUT" "oskey"
expect_ok "openstack keypair delete osgen" openstack keypair delete osgen
expect_ok "twccli ls key -json" twccli ls key -json
assert_eq "... twccli lists key1, key2 only" "$(pyj 'sorted(k["name"] for k in j)' <<<"$OUT")" "['key1', 'key2']"

section "errors a user meets"
expect_rc 1 "twccli ls key -n nosuch" twccli ls key -n nosuch
assert_eq "... [TWCC-CLI] Error-Not found." "$OUT" "[TWCC-CLI] Error-Not found."
no_traceback "ls unknown"
expect_rc 1 "twccli rm key -n nosuch -f" twccli rm key -n nosuch -f
assert_eq "... [TWCC-CLI] Error-Not found." "$OUT" "[TWCC-CLI] Error-Not found."
no_traceback "rm unknown"
raw GET "/api/v2/$site/keypairs/" nk-twcc-no-such-key
assert_eq "bad API key (curl) -> 401" "$RAW_STATUS" 401
assert_match "... application/json" "$RAW_CTYPE" '^application/json'
bad_detail="$(pyj 'j["detail"]' <<<"$RAW_BODY")"
assert_eq "... with DRF's detail" "$bad_detail" "Incorrect authentication credentials."
expect_rc 1 "twccli ls key with a bad API key in the credential file" env TWCC_DATA_PATH="$work/bogus" twccli ls key
assert_eq "... [TWCC-CLI] Error-<detail>" "$OUT" "[TWCC-CLI] Error-$bad_detail"
no_traceback "bad key"
expect_rc 1 "twccli mk key -n kbad with a bad API key (_TWCC_API_KEY_)" \
    env _TWCC_API_KEY_=nk-twcc-no-such-key twccli mk key -n kbad
assert_eq "... [TWCC-CLI] Error-<detail>" "$OUT" "[TWCC-CLI] Error-$bad_detail"
assert_eq "... no kbad.pem" "$(test -e "$data/kbad.pem" && echo yes || echo no)" no
expect_rc 1 "twccli mk key -n a/b (not a key pair name)" twccli mk key -n a/b
assert_eq "... [TWCC-CLI] Error-<the name rule>" "$OUT" \
    "[TWCC-CLI] Error-name: Keypair name may only contain letters, digits, spaces and the characters _ - @ ."
no_traceback "name with /"
raw POST "/api/v2/$site/keypairs/" nk-twcc-reader-key-0001 '{"name": "rkey"}'
assert_eq "reader's POST (curl) -> 403" "$RAW_STATUS" 403
reader_detail="$(pyj 'j["detail"]' <<<"$RAW_BODY")"
assert_eq "... with DRF's detail" "$reader_detail" "You do not have permission to perform this action."
expect_rc 1 "twccli mk key -n rkey as reader" env TWCC_DATA_PATH="$work/reader" twccli mk key -n rkey
assert_eq "... [TWCC-CLI] Error-<detail>" "$OUT" "[TWCC-CLI] Error-$reader_detail"
assert_eq "... no rkey.pem" "$(test -e "$work/reader/rkey.pem" && echo yes || echo no)" no
expect_ok "twccli ls key as reader (may list)" env TWCC_DATA_PATH="$work/reader" twccli ls key
assert_not_contains "... demo's key1 is not reader's" "$OUT" "key1"

section "admin's API key sees none of demo's key pairs"
expect_ok "twccli ls key -json as admin" env TWCC_DATA_PATH="$work/admin" twccli ls key -json
assert_eq "... none of demo's" "$(pyj 'sorted(set(k["name"] for k in j) & {"key1", "key2"})' <<<"$OUT")" "[]"
expect_rc 1 "twccli ls key -n key1 as admin" env TWCC_DATA_PATH="$work/admin" twccli ls key -n key1
assert_eq "... [TWCC-CLI] Error-Not found." "$OUT" "[TWCC-CLI] Error-Not found."
expect_ok "twccli mk key -n key1 as admin (its own key1)" env TWCC_DATA_PATH="$work/admin" twccli mk key -n key1
must "ssh-keygen -y -f admin's key1.pem" ssh-keygen -y -f "$work/admin/key1.pem"
assert_ne "... a different key from demo's key1" "$(pub2 <<<"$OUT")" "$pub1"
expect_ok "twccli rm key -n key1 -f as admin" env TWCC_DATA_PATH="$work/admin" twccli rm key -n key1 -f
expect_ok "twccli ls key -n key1 -json (demo)" twccli ls key -n key1 -json
assert_eq "... demo's key1 is still there" "$(pyj 'j[0]["fingerprint"]' <<<"$OUT")" "$fp1"

section "rm key"
expect_ok "twccli rm key -n key1 -f" twccli rm key -n key1 -f
assert_eq "... deleted, and the CLI reminds you of key1.pem" "$OUT" "Keypair: key1 deleted.
Please \`rm $data/key1.pem\` by yourself!"
assert_eq "... key1.pem stays (it is yours)" "$(test -e "$data/key1.pem" && echo yes || echo no)" yes
expect_rc 1 "twccli ls key -n key1" twccli ls key -n key1
assert_eq "... [TWCC-CLI] Error-Not found." "$OUT" "[TWCC-CLI] Error-Not found."
expect_rc 1 "openstack keypair show key1" openstack keypair show key1
assert_eq "... No Keypair found" "$ERR" "No Keypair found for key1"
run sh -c 'echo y | twccli rm key key2'
assert_eq "echo y | twccli rm key key2: exit 0" "$RC" 0
assert_contains "... asked, then deleted" "$OUT" "Are you sure?"
assert_contains "... Keypair: key2 deleted." "$OUT" "Keypair: key2 deleted."
expect_ok "twccli ls key -json" twccli ls key -json
assert_eq "... empty" "$OUT" "[]"
expect_ok "openstack keypair list -f value -c Name" openstack keypair list -f value -c Name
assert_eq "... openstack lists nothing either" "$OUT" ""

section "the request journal keeps no secrets"
raw GET /_novakeys/journal
assert_eq "GET $url/_novakeys/journal -> 200" "$RAW_STATUS" 200
assert_contains "... it saw twccli's requests" "$RAW_BODY" "keypairs"
for secret in nk-twcc-demo-key-0001 nk-twcc-admin-key-0001 nk-twcc-reader-key-0001 "PRIVATE KEY"; do
    assert_not_contains "... no '$secret' in it" "$RAW_BODY" "$secret"
done

section "raw HTTP (http_checks.py)"
run python3 "$twcc_dir/http_checks.py" "$url"
printf '%s\n' "$OUT"
[ -z "$ERR" ] || printf '%s\n' "$ERR" | sed 's/^/     | /'
if [ "$RC" -eq 0 ]; then pass "http_checks.py: every raw check passed"; else fail "http_checks.py: see the FAIL lines above"; fi

finish twcc
