#!/usr/bin/env bash
# A quick Odoo suite run while developing: one series, chosen test tags, on a
# copy of a cached template database with base,web already installed.
#
#   tools/odoo_quick.sh 18.0 /secure_api:TestWebhooks
#   tools/odoo_quick.sh 19.0                      # the whole suite
#
# Odoo comes from tools/odoo_setup.sh (ODOO_SOURCE, cached). The template
# sa_tpl_<series> is made once; each run copies it, installs secure_api with
# the tags and drops the copy. The log is kept in $TMPDIR/sa_quick_<series>.log.
# tools/test.sh remains the one command that decides.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
series=${1:?series: 17.0, 18.0 or 19.0}
tags=${2:-/secure_api}
bin=$("$ROOT/tools/odoo_setup.sh" "$series" | tail -n 1) || exit 1
py=$(dirname "$bin")/.venv/bin/python
addons=$(mktemp -d "${TMPDIR:-/tmp}/sa_quick_addons.XXXXXX")
trap 'rm -rf "$addons"' EXIT
ln -s "$ROOT" "$addons/secure_api"
opts=(--db_host=127.0.0.1 --db_port=5432 --db_user="$(id -un)"
      --addons-path="$addons,$(dirname "$bin")/addons")
case ${series%%.*} in
    18) opts+=(--without-demo=all) ;;
    19) opts+=(--with-demo --load=base,web) ;;
esac
tpl="sa_tpl_${series//./_}"
if ! psql -h 127.0.0.1 -d postgres -Atc "select 1 from pg_database where datname='$tpl'" | grep -q 1; then
    echo "quick: making the template $tpl (base,web) ..."
    "$py" "$bin" "${opts[@]}" -d "$tpl" -i base,web --stop-after-init --log-level=warn ||
        { dropdb -h 127.0.0.1 --if-exists "$tpl"; exit 1; }
fi
db="sa_quick_${series//./_}_$$"
createdb -h 127.0.0.1 -T "$tpl" "$db" || exit 1
log="${TMPDIR:-/tmp}/sa_quick_${series}_$$.log"
port=$((20000 + RANDOM % 20000))
echo "quick: Odoo $series, tags $tags, database $db, log $log"
"$py" "$bin" "${opts[@]}" -d "$db" -i secure_api --test-enable --test-tags "$tags" \
    --stop-after-init --http-interface=127.0.0.1 --http-port="$port" --workers=0 \
    --max-cron-threads=0 --log-level=info >"$log" 2>&1
rc=$?
dropdb -h 127.0.0.1 --if-exists "$db"
grep -E ' (FAIL|ERROR): | (ERROR|CRITICAL) |: skipped ' "$log" | head -n 40
awk '/ (ERROR|CRITICAL|FAIL): / {keep=1} /^[0-9-]+ [0-9:,]+ [0-9]+ (INFO|DEBUG) / {keep=0} keep' "$log" | head -n 150
grep -oE '[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$log" | tail -n 1
exit $rc
