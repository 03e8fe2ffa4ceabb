#!/usr/bin/env bash
# Prepares a TWCC CLI data folder (TWCC_DATA_PATH) so that twcc-cli 0.6.1 runs offline against
# novakeys without `twccli config init` (which calls ipinfo.io, /api/v2/users/, the project and
# S3-key APIs and Google Analytics), and prints what the shell needs. It stands in for
# `novakeys credentials --cloud twcc --user NAME --data-path DIR` until that exists, and
# writes exactly what that command is to write:
#
#   DIR/                 created if missing (the CLI ignores TWCC_DATA_PATH unless it is an
#                        existing directory, and then uses ~/.twcc_data)
#   DIR/log/             must exist whenever DIR exists (the CLI's start-up does mkdir(DIR)
#                        when log/ is missing, which fails on an existing DIR)
#   DIR/credential       YAML, mode 600; every key below is read at start-up (KeyError if one is
#                        missing); _meta.cli_version must equal the CLI's version, else the CLI
#                        re-runs `config init`; projects.<code> must exist and hold CNTR (the
#                        key pair service reads projects[code]['CNTR']); no _meta.ga_cid, so
#                        nothing goes to Google Analytics
#   DIR/releases.xml     the cached PyPI release feed; read on every start, fetched from pypi.org
#                        only when missing; its first <item><title> must be "X.Y.Z" and not
#                        newer than the CLI's version (a newer one makes the CLI page an
#                        upgrade banner), so: the installed version
#
# and prints on stdout (eval-able; the last two lines are comments):
#   export TWCC_DATA_PATH='DIR'
#   # twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:
#   #   host: "URL"
#
# usage: twcc-data.sh --user NAME --data-path DIR --url URL [--api-key KEY] [--project CODE]
#   URL is the TWCC listener, scheme://host:port with no trailing slash (NOVAKEYS_TWCC_URL).
#   --api-key/--project override the fixture values (e.g. to test a bad key).
set -euo pipefail
user="" dir="" url="" key="" project="" cli_version=0.6.1
while [ $# -gt 0 ]; do
    case "$1" in
        --user) user="$2"; shift 2 ;;
        --data-path) dir="$2"; shift 2 ;;
        --url) url="$2"; shift 2 ;;
        --api-key) key="$2"; shift 2 ;;
        --project) project="$2"; shift 2 ;;
        *) echo "twcc-data.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$user" ] && [ -n "$dir" ] && [ -n "$url" ] || {
    echo "usage: twcc-data.sh --user NAME --data-path DIR --url URL [--api-key KEY] [--project CODE]" >&2
    exit 2
}
# The fixture users' TWCC API keys and default projects (see the novakeys fixtures).
case "$user" in
    admin) fixture_key=nk-twcc-admin-key-0001 fixture_project=admin ;;
    demo) fixture_key=nk-twcc-demo-key-0001 fixture_project=demo ;;
    reader) fixture_key=nk-twcc-reader-key-0001 fixture_project=demo ;;
    *) fixture_key="" fixture_project="" ;;
esac
key="${key:-$fixture_key}"
project="${project:-$fixture_project}"
[ -n "$key" ] && [ -n "$project" ] || {
    echo "twcc-data.sh: no fixture credential for user '$user'; pass --api-key and --project" >&2
    exit 2
}
case "$url" in
    http://*|https://*) ;;
    *) echo "twcc-data.sh: --url needs a scheme (http://host:port)" >&2; exit 2 ;;
esac
url="${url%/}"

mkdir -p "$dir/log"
dir="$(cd "$dir" && pwd)"
umask 077
# The project code names the TWCC project ("計畫系統代碼", e.g. GOV108009); novakeys uses the
# Keystone project name. The per-cluster ids under projects.<code> are never sent by the key
# pair commands; config init would store the project id of each cluster there.
cat >"$dir/credential" <<YAML
_default:
  twcc_api_key: $key
  twcc_proj_code: $project
  twcc_s3_access_key: ''
  twcc_s3_secret_key: ''
  twcc_username: $user
_meta:
  cli_version: $cli_version
  ctime: '$(date '+%Y-%m-%d %H:%M:%S')'
projects:
  $project:
    CNTR: $project
    COS: $project
    HPCJ: $project
    VCS: $project
YAML
umask 022
cat >"$dir/releases.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>PyPI recent updates for twcc-cli</title>
    <link>https://pypi.org/project/twcc-cli/</link>
    <description>Recent updates to the Python Package Index for twcc-cli</description>
    <item>
      <title>$cli_version</title>
      <link>https://pypi.org/project/twcc-cli/$cli_version/</link>
      <pubDate>Thu, 02 Mar 2023 00:00:00 GMT</pubDate>
    </item>
  </channel>
</rss>
XML
printf "export TWCC_DATA_PATH='%s'\n" "$dir"
echo "# twcc-cli has no endpoint option or variable: set production.host in its packaged twccli/yaml/TWCC_API.yaml:"
printf '#   host: "%s"\n' "$url"
