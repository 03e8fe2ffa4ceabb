# shellcheck shell=bash
# Source me after venv.sh. Points the unmodified TWCC CLI at a novakeys TWCC listener the one
# way the CLI supports: the API host in its packaged settings file.
#
# twcc-cli 0.6.1 reads its API host from nowhere else: Session2._getTwccApiHost() returns
# production.host of <package dir>/yaml/TWCC_API.yaml, the package dir being found from
# realpath(twccli/twcc/session.py). No option, no variable, no data-folder file overrides it
# (TWCC_DATA_PATH/resources is a copy written by config init and never read back). The value
# is prefixed verbatim to "/api/v2/<site>/keypairs/", so it is scheme://host[:port], no
# trailing slash.
#
# Editing that file in the cached venv would tie the venv to one server port; suites run in
# parallel against servers on random ports. So each run gets its own copy of the twccli
# package (about 1 MB, byte-identical except for the host line) and runs the venv's own
# `twccli` entry point with PYTHONPATH naming that copy; the venv itself stays pristine.
#
#   twcc_cli_install URL DIR   copy the package into DIR/site, set its host to URL, write
#                              DIR/bin/twccli and put DIR/bin first on PATH
: "${TWCC_VENV:?source compat/twcc/venv.sh first}"

twcc_cli_install() {
    local url="$1" dir="$2" pkg
    pkg="$(env -u PYTHONPATH "$TWCC_VENV/bin/python" -c 'import os, twccli; print(os.path.dirname(os.path.realpath(twccli.__file__)))')"
    rm -rf "$dir/site" "$dir/bin"
    mkdir -p "$dir/site" "$dir/bin"
    cp -a "$pkg" "$dir/site/"
    env -u PYTHONPATH "$TWCC_VENV/bin/python" - "$dir/site/twccli/yaml/TWCC_API.yaml" "$url" <<'PY'
import re, sys, yaml
path, url = sys.argv[1], sys.argv[2]
text = open(path).read()
# The one "host:" line, under "production:" (indented two spaces).
text, n = re.subn(r'(?m)^  host: .*$', '  host: "%s"' % url, text, count=1)
assert n == 1, "no production.host line in %s" % path
open(path, "w").write(text)
assert yaml.safe_load(open(path))["production"]["host"] == url
PY
    cat >"$dir/bin/twccli" <<SH
#!/bin/sh
# twcc-cli from $TWCC_VENV, unmodified; its package is imported from
# $dir/site, a copy whose packaged TWCC_API.yaml has production.host: $url
PYTHONPATH='$dir/site' exec '$TWCC_VENV/bin/twccli' "\$@"
SH
    chmod +x "$dir/bin/twccli"
    export PATH="$dir/bin:$PATH"
}
