#!/usr/bin/env bash
# The one test command of secure_api (see README, "Tests"). Runs, in order:
#   1. ruff (OCA configuration)          2. pylint-odoo's mandatory checks
#   3. the core unit tests under pytest  4. the Odoo suite, on each Odoo found
#   5. after each Odoo suite, on its database: the live suite (tests/live,
#      plain HTTP against that Odoo started on loopback: a client generated
#      with openapi-python-client, and newman over the exported collection)
# and prints which suites ran, which were skipped and why.
#
# Environment:
#   PYTHON          interpreter with requirements-dev.txt installed (python3)
#   ODOO_BIN        odoo-bin executable(s), space-separated; default: ODOO_SRC's,
#                   else every odoo-bin* on PATH (odoo-bin, odoo-bin-19, ...) or
#                   odoo, else each of ODOO_SERIES set up by tools/odoo_setup.sh
#   ODOO_SRC        an Odoo source tree (runs its odoo-bin)
#   ODOO_SOURCE     where tools/odoo_setup.sh clones Odoo from when none is
#                   found: a git URL, a local repository or a git bundle
#                   (default: Odoo's official repository)
#   ODOO_SERIES     the series to set up that way (default: 17.0 18.0 19.0)
#   ODOO_PYTHON     interpreter to run a source checkout's odoo-bin with (optional)
#   ODOO_ADDONS_PATH extra addons directories, comma-separated (optional)
#   ODOO_DB_HOST / ODOO_DB_PORT / ODOO_DB_USER / ODOO_DB_PASSWORD  PostgreSQL
#   ODOO_TEST_TAGS  overrides the test tags (default /secure_api)
#   ODOO_LOG_DIR    keep a copy of each Odoo log there (optional)
#   SKIP_ODOO=1     skip the Odoo suite on purpose (and so the live suite)
#   SKIP_LIVE=1     skip the live suite on purpose
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
# The suites cd around: make a relative interpreter path absolute.
case $PY in */*) PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY") ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/secure_api_test.XXXXXX")
LIVE_PID=
trap 'stop_live; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/addons"
ln -s "$ROOT" "$WORK/addons/secure_api"

declare -a REPORT=()
FAILED=0
PASSED_TESTS=0
FAILED_TESTS=0

banner() { printf '\n==== %s ====\n' "$*"; }
record() {  # suite status detail
    # Under CI nothing may be skipped: a skipped suite proves nothing.
    if [ "$2" = SKIPPED ] && [ "${CI:-}" = true ]; then set -- "$1" FAILED "skipped under CI: $3"; fi
    REPORT+=("$(printf '%-22s %-8s %s' "$1" "$2" "$3")")
    [ "$2" = FAILED ] && FAILED=1
}

# 1. ruff ---------------------------------------------------------------
banner "ruff (OCA configuration)"
if (cd "$ROOT" && "$PY" -m ruff check . && "$PY" -m ruff format --check .); then
    record ruff passed ""
else
    record ruff FAILED "see the ruff output above"
fi

# 2. pylint-odoo --------------------------------------------------------
banner "pylint-odoo mandatory checks"
if (cd "$WORK/addons" && "$PY" -m pylint --rcfile="$ROOT/.pylintrc-mandatory" secure_api); then
    record pylint-odoo passed ""
else
    record pylint-odoo FAILED "see the pylint output above"
fi

# 3. core unit tests ----------------------------------------------------
banner "core unit tests (pytest, no Odoo)"
(cd "$ROOT/tests/core" && "$PY" -m pytest -q -rs . | tee "$WORK/pytest.log")
rc=${PIPESTATUS[0]}
summary=$(grep -E '^[0-9]+ (passed|failed)|[0-9]+ passed' "$WORK/pytest.log" | tail -n 1)
core_passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
core_failed=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
PASSED_TESTS=$((PASSED_TESTS + ${core_passed:-0}))
FAILED_TESTS=$((FAILED_TESTS + ${core_failed:-0}))
case $rc in
    0) record core-pytest passed "$summary" ;;
    5) record core-pytest FAILED "pytest collected no test (exit 5): the core suite must never be empty" ;;
    *) record core-pytest FAILED "pytest exit $rc: $summary" ;;
esac

# 4. Odoo suite ---------------------------------------------------------
check_pot() {  # odoo command and database options
    local fresh="$WORK/secure_api.pot" strip='^"(POT-Creation-Date|PO-Revision-Date|Project-Id-Version):'
    if ! "$@" --i18n-export="$fresh" --modules=secure_api --stop-after-init \
            --log-level=warn >"$WORK/pot.log" 2>&1; then
        record i18n-pot FAILED "exporting the .pot failed (see $WORK/pot.log)"
    elif diff <(grep -Ev "$strip" "$fresh") <(grep -Ev "$strip" "$ROOT/i18n/secure_api.pot") >"$WORK/pot.diff"; then
        record i18n-pot passed "i18n/secure_api.pot is current"
    else
        head -n 40 "$WORK/pot.diff"
        record i18n-pot FAILED "i18n/secure_api.pot is stale: export it again (odoo-bin --i18n-export=i18n/secure_api.pot --modules=secure_api, on 18.0)"
    fi
}

stop_live() {  # the live stage's Odoo server, if it runs
    [ -n "${LIVE_PID:-}" ] || return 0
    if kill "$LIVE_PID" 2>/dev/null; then
        local _
        for _ in $(seq 60); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$LIVE_PID" 2>/dev/null
        wait "$LIVE_PID" 2>/dev/null
    fi
    LIVE_PID=
}

run_live() {  # series database, then the odoo command with its options
    local series=$1 db=$2 port url log rc summary passed failed skipped skips problems
    shift 2
    banner "live suite on Odoo $series (generated client, newman; plain HTTP)"
    if [ -n "${SKIP_LIVE:-}" ]; then
        echo "!!! live suite SKIPPED: SKIP_LIVE is set !!!"
        record "live-$series" SKIPPED "SKIP_LIVE is set"
        return
    fi
    log="$WORK/odoo-$series-live.log"
    port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    url="http://127.0.0.1:$port"
    echo "starting Odoo $series on $url (database $db, log: $log) ..."
    "$@" -d "$db" --db-filter="^${db}\$" --http-interface=127.0.0.1 --http-port="$port" \
        --workers=0 --max-cron-threads=0 --log-level=warn >"$log" 2>&1 &
    LIVE_PID=$!
    if ! "$PY" - "$url/web/login" "$LIVE_PID" <<'PYEOF'
import os, sys, time, urllib.error, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 180
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("Odoo exited before it served " + url)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            if response.status == 200:
                sys.exit(0)
    except (OSError, urllib.error.URLError):
        pass
    time.sleep(0.5)
sys.exit("Odoo did not serve " + url + " within 180 s")
PYEOF
    then
        tail -n 40 "$log"
        stop_live
        record "live-$series" FAILED "Odoo did not start (see the log above)"
        return
    fi
    # The odoo-bin command with its database options, for the tests that
    # start servers of their own (two servers with two workers each).
    local odoo_json
    odoo_json=$("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
    (cd "$ROOT/tests/live" && SECURE_API_LIVE_URL="$url" SECURE_API_LIVE_DB="$db" \
        SECURE_API_LIVE_ODOO="$odoo_json" \
        SECURE_API_LIVE_LOGIN=admin SECURE_API_LIVE_PASSWORD=admin \
        "$PY" -m pytest -q -rs . | tee "$WORK/live-$series.log")
    rc=${PIPESTATUS[0]}
    stop_live
    summary=$(grep -E '[0-9]+ (passed|failed|errors?|skipped).* in [0-9.]+s' "$WORK/live-$series.log" | tail -n 1)
    passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    failed=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
    skipped=$(grep -oE '[0-9]+ skipped' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    PASSED_TESTS=$((PASSED_TESTS + ${passed:-0}))
    FAILED_TESTS=$((FAILED_TESTS + ${failed:-0}))
    skips=$(grep -E '^SKIPPED' "$WORK/live-$series.log" | sed -E 's/^SKIPPED \[[0-9]+\] [^ ]+ //' | tr '\n' ' ')
    # A server error during the run fails it, even if no test noticed.
    problems=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log" || true)
    if [ -n "$problems" ]; then
        echo "---- errors in the live Odoo log ($log) ----"
        awk '/^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) / {print; keep=1; next}
             /^[0-9-]+ [0-9:,]+ [0-9]+ / {keep=0; next}
             keep {print}' "$log" | head -n "${ODOO_LOG_LINES:-400}"
    fi
    if [ -n "${ODOO_LOG_DIR:-}" ]; then mkdir -p "$ODOO_LOG_DIR" && cp "$log" "$ODOO_LOG_DIR/"; fi
    [ "${skipped:-0}" -gt 0 ] && echo "!!! live-$series: ${skipped} test(s) SKIPPED: $skips!!!"
    case $rc in
        0)
            if [ "${passed:-0}" -eq 0 ]; then
                record "live-$series" FAILED "no live test passed: $summary"
            elif [ -n "$problems" ]; then
                record "live-$series" FAILED "$summary; but the Odoo log has errors (above)"
            elif [ "${skipped:-0}" -gt 0 ] && [ "${CI:-}" = true ]; then
                record "live-$series" FAILED "$summary; tests were skipped under CI: $skips"
            else
                record "live-$series" passed "$summary${skips:+ (SKIPPED: $skips)}"
            fi ;;
        5) record "live-$series" FAILED "pytest collected no test (exit 5): the live suite must never be empty" ;;
        *) record "live-$series" FAILED "pytest exit $rc: $summary" ;;
    esac
}

run_odoo() {  # one odoo-bin
    local bin=$1 real root version series db port log cmd addons rc
    real=$(readlink -f "$(command -v "$bin" || echo "$bin")")
    root=$(dirname "$real")
    cmd=("$real")
    if [ -n "${ODOO_PYTHON:-}" ]; then
        cmd=("$ODOO_PYTHON" "$real")
    elif [ -x "$root/.venv/bin/python" ] && [ -f "$root/odoo/release.py" ]; then
        cmd=("$root/.venv/bin/python" "$real")
    fi
    addons="$WORK/addons"
    [ -f "$root/odoo/release.py" ] && [ -d "$root/addons" ] && addons="$addons,$root/addons"
    [ -n "${ODOO_ADDONS_PATH:-}" ] && addons="$addons,$ODOO_ADDONS_PATH"
    version=$("${cmd[@]}" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
    series=${version:-unknown}
    banner "Odoo suite on Odoo $series ($real)"
    db="sa_test_${series//./_}_$$"
    port=$((20000 + RANDOM % 20000))
    local -a dbopts=(--db_host="${ODOO_DB_HOST:-127.0.0.1}" --db_port="${ODOO_DB_PORT:-5432}"
                     --db_user="${ODOO_DB_USER:-$(id -un)}" --addons-path="$addons")
    [ -n "${ODOO_DB_PASSWORD:-}" ] && dbopts+=(--db_password="$ODOO_DB_PASSWORD")
    local -a load=() demo=()
    # Odoo 19 sources without the rpc addon cannot load the default
    # server-wide modules. The suite runs with demo data on 17.0 (its
    # default) and 19.0 (--with-demo), and without on 18.0, whose database
    # also serves the translation-template check (the template is exported
    # from a database without demo records).
    case "${series%%.*}" in
        17) demo=() ;;
        18) demo=(--without-demo=all) ;;
        *) demo=(--with-demo); load=(--load=base,web) ;;
    esac
    log="$WORK/odoo-$series.log"
    echo "installing base,web into a fresh database $db ..."
    if ! "${cmd[@]}" "${dbopts[@]}" "${load[@]}" -d "$db" -i base,web --stop-after-init \
            "${demo[@]}" --http-port="$port" --log-level=warn >"$log.base" 2>&1; then
        tail -n 40 "$log.base"
        record "odoo-$series" FAILED "installing base,web failed"
        return
    fi
    echo "installing secure_api with --test-enable (log: $log) ..."
    "${cmd[@]}" "${dbopts[@]}" "${load[@]}" -d "$db" -i secure_api --test-enable \
        --test-tags "${ODOO_TEST_TAGS:-/secure_api}" --stop-after-init --http-port="$port" \
        --http-interface=127.0.0.1 --workers=0 --max-cron-threads=0 --log-level=info >"$log" 2>&1
    rc=$?
    if [ -n "${ODOO_LOG_DIR:-}" ]; then mkdir -p "$ODOO_LOG_DIR" && cp "$log" "$ODOO_LOG_DIR/"; fi
    # The translation template is exported from 18.0 and must be current.
    if [ "$series" = "18.0" ] && [ $rc -eq 0 ]; then check_pot "${cmd[@]}" "${dbopts[@]}" -d "$db"; fi
    local problems result failed errors total skips
    # Any error, and any warning about this addon, fails the run.
    problems=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) |^[0-9-]+ [0-9:,]+ [0-9]+ WARNING [^ ]+ [^ ]*secure_api|^[0-9-]+ [0-9:,]+ [0-9]+ WARNING .*secure_api/' "$log" \
               | grep -v 'odoo.tests.result' || true)
    result=$(grep -oE '[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$log" | tail -n 1)
    grep -E ' (FAIL|ERROR): ' "$log" | head -n 40
    echo "$result"
    failed=$(awk '{print $1}' <<<"$result"); errors=$(awk '{print $3}' <<<"$result" | tr -dc 0-9)
    total=$(awk '{print $6}' <<<"$result")
    failed=${failed:-0}; errors=${errors:-0}; total=${total:-0}
    PASSED_TESTS=$((PASSED_TESTS + total - failed - errors))
    FAILED_TESTS=$((FAILED_TESTS + failed + errors))
    echo "odoo-$series: $((total - failed - errors)) passed, $((failed + errors)) failed"
    # Odoo logs a skipped test (a browser test without Chromium, say) at INFO.
    skips=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ INFO [^ ]+ [^ ]+: skipped .* : ' "$log" | sed -E 's/.*: skipped //')
    [ -n "$skips" ] && { echo "!!! odoo-$series: tests SKIPPED:"; echo "$skips"; }
    [ -n "$skips" ] && [ "${CI:-}" = true ] && problems="${problems}${problems:+$'\n'}tests skipped under CI: $skips"
    if [ $rc -ne 0 ] || [ -z "$result" ] || [ "$total" -eq 0 ] || [ -n "$problems" ]; then
        echo "---- errors and tracebacks from the Odoo log ----"
        awk '/^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL|WARNING) / {print; keep=1; next}
             /^[0-9-]+ [0-9:,]+ [0-9]+ / {keep=0; next}
             keep {print}' "$log" | head -n "${ODOO_LOG_LINES:-400}"
        [ -n "$problems" ] && { echo "log lines that fail the run:"; echo "$problems" | head -n 40; }
        [ "$total" -eq 0 ] && echo "no Odoo test ran"
        record "odoo-$series" FAILED "exit $rc; $result"
    else
        record "odoo-$series" passed "$result"
    fi
    # The live suite runs on the database the Odoo suite installed, then it goes.
    run_live "$series" "$db" "${cmd[@]}" "${dbopts[@]}" "${load[@]}"
    dropdb --if-exists -h "${ODOO_DB_HOST:-127.0.0.1}" -p "${ODOO_DB_PORT:-5432}" \
        -U "${ODOO_DB_USER:-$(id -un)}" "$db" >/dev/null 2>&1 || true
}

# The Odoo servers to test on: ODOO_BIN, else ODOO_SRC, else every odoo-bin*
# on PATH (odoo-bin, odoo-bin-19, ...) or odoo, else each series of
# ODOO_SERIES set up from ODOO_SOURCE by tools/odoo_setup.sh (cached).
find_odoo() {
    local bins=${ODOO_BIN:-}
    [ -z "$bins" ] && [ -n "${ODOO_SRC:-}" ] && bins=$ODOO_SRC/odoo-bin
    if [ -z "$bins" ]; then
        bins=$(compgen -c odoo-bin | sort -u | tr '\n' ' ')
        [ -z "${bins// /}" ] && command -v odoo >/dev/null 2>&1 && bins=odoo
    fi
    echo "$bins"
}

if [ -n "${SKIP_ODOO:-}" ]; then
    banner "Odoo suite SKIPPED: SKIP_ODOO is set"
    record odoo SKIPPED "SKIP_ODOO is set"
else
    bins=$(find_odoo)
    if [ -z "${bins// /}" ]; then
        series_list=${ODOO_SERIES:-17.0 18.0 19.0}
        banner "setting up Odoo $series_list from ${ODOO_SOURCE:-the official Odoo repository}"
        for series in $series_list; do
            if bin=$("$ROOT/tools/odoo_setup.sh" "$series"); then
                bins="$bins $bin"
            else
                record "odoo-$series" FAILED "Odoo $series could not be set up (see odoo-setup above)"
            fi
        done
    fi
    for bin in $bins; do run_odoo "$bin"; done
fi

banner "summary"
printf '%s\n' "${REPORT[@]}"
echo "tests: $PASSED_TESTS passed, $FAILED_TESTS failed"
exit $FAILED
