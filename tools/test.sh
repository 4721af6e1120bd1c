#!/usr/bin/env bash
# The one test command of secure_api (see README, "Tests"). Runs, in order:
#   1. ruff (OCA configuration)          2. pylint-odoo's mandatory checks
#   3. the core unit tests under pytest  4. the Odoo suite, on each Odoo found
#   5. after each Odoo suite, on its database: the live suite (tests/live,
#      plain HTTP against that Odoo started on loopback: a client generated
#      with openapi-python-client, and newman over the exported collection)
#   6. then, on Odoo 18.0 and later, the replica suite (tests/replica): a
#      streaming replica of the test database's PostgreSQL server, Odoo
#      started with --db_replica_host on it, replay paused and resumed by
#      the tests (17.0 has no replica support: recorded n/a)
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
#   SKIP_REPLICA=1  skip the replica suite on purpose
#   PG_BIN          PostgreSQL's server binaries for the replica (default:
#                   /usr/lib/postgresql/<the server's major version>/bin)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
# The suites cd around: make a relative interpreter path absolute.
case $PY in */*) PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY") ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/secure_api_test.XXXXXX")
LIVE_PID=
# The replica stage's standby cluster: its folder, port, slot and binaries.
REPLICA_DIR= REPLICA_PORT= REPLICA_SLOT= REPLICA_BIN= REPLICA_ERROR=
trap 'stop_live; stop_replica; rm -rf "$WORK"' EXIT
# Interrupted, the EXIT trap still stops the servers and drops the slot.
trap 'exit 130' INT
trap 'exit 143' TERM
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

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {  # log port, then the odoo command with its options
    # Starts Odoo in the background on loopback (LIVE_PID) and waits until it
    # serves; on failure shows the log's end, stops it and returns 1.
    local log=$1 port=$2 url
    shift 2
    url="http://127.0.0.1:$port"
    "$@" --http-interface=127.0.0.1 --http-port="$port" --max-cron-threads=0 \
        --log-level=warn >"$log" 2>&1 &
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
        return 1
    fi
}

run_suite() {  # stage folder log, then the suite's environment (NAME=value ...)
    # Runs the pytest suite of the folder against the server started by
    # start_server, stops the server and records the stage: failed on a
    # failed test, an empty suite, an error in the server's log, or a skipped
    # test under CI.
    local stage=$1 folder=$2 log=$3 rc summary passed failed skipped skips problems
    shift 3
    (cd "$ROOT/$folder" && env "$@" "$PY" -m pytest -q -rs . | tee "$WORK/$stage.log")
    rc=${PIPESTATUS[0]}
    stop_live
    summary=$(grep -E '[0-9]+ (passed|failed|errors?|skipped).* in [0-9.]+s' "$WORK/$stage.log" | tail -n 1)
    passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    failed=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s += $1} END {print s + 0}')
    skipped=$(grep -oE '[0-9]+ skipped' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
    PASSED_TESTS=$((PASSED_TESTS + ${passed:-0}))
    FAILED_TESTS=$((FAILED_TESTS + ${failed:-0}))
    skips=$(grep -E '^SKIPPED' "$WORK/$stage.log" | sed -E 's/^SKIPPED \[[0-9]+\] [^ ]+ //' | tr '\n' ' ')
    # A server error during the run fails it, even if no test noticed.
    problems=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$log" || true)
    if [ -n "$problems" ]; then
        echo "---- errors in the Odoo log of $stage ($log) ----"
        awk '/^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) / {print; keep=1; next}
             /^[0-9-]+ [0-9:,]+ [0-9]+ / {keep=0; next}
             keep {print}' "$log" | head -n "${ODOO_LOG_LINES:-400}"
    fi
    if [ -n "${ODOO_LOG_DIR:-}" ]; then mkdir -p "$ODOO_LOG_DIR" && cp "$log" "$ODOO_LOG_DIR/"; fi
    [ "${skipped:-0}" -gt 0 ] && echo "!!! $stage: ${skipped} test(s) SKIPPED: $skips!!!"
    case $rc in
        0)
            if [ "${passed:-0}" -eq 0 ]; then
                record "$stage" FAILED "no test passed: $summary"
            elif [ -n "$problems" ]; then
                record "$stage" FAILED "$summary; but the Odoo log has errors (above)"
            elif [ "${skipped:-0}" -gt 0 ] && [ "${CI:-}" = true ]; then
                record "$stage" FAILED "$summary; tests were skipped under CI: $skips"
            else
                record "$stage" passed "$summary${skips:+ (SKIPPED: $skips)}"
            fi ;;
        5) record "$stage" FAILED "pytest collected no test (exit 5): the suite must never be empty" ;;
        *) record "$stage" FAILED "pytest exit $rc: $summary" ;;
    esac
}

run_live() {  # series database, then the odoo command with its options
    local series=$1 db=$2 port log
    shift 2
    banner "live suite on Odoo $series (generated client, newman; plain HTTP)"
    if [ -n "${SKIP_LIVE:-}" ]; then
        echo "!!! live suite SKIPPED: SKIP_LIVE is set !!!"
        record "live-$series" SKIPPED "SKIP_LIVE is set"
        return
    fi
    log="$WORK/odoo-$series-live.log"
    port=$(free_port)
    echo "starting Odoo $series on http://127.0.0.1:$port (database $db, log: $log) ..."
    if ! start_server "$log" "$port" "$@" -d "$db" --db-filter="^${db}\$" --workers=0; then
        record "live-$series" FAILED "Odoo did not start (see the log above)"
        return
    fi
    # The odoo-bin command with its database options, for the tests that
    # start servers of their own (two servers with two workers each).
    local odoo_json
    odoo_json=$("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
    run_suite "live-$series" tests/live "$log" \
        SECURE_API_LIVE_URL="http://127.0.0.1:$port" SECURE_API_LIVE_DB="$db" \
        SECURE_API_LIVE_ODOO="$odoo_json" \
        SECURE_API_LIVE_LOGIN=admin SECURE_API_LIVE_PASSWORD=admin
}

# The replica stage -------------------------------------------------------
# A hot standby of the test database's server, streaming from a replication
# slot, in a temporary folder, on a free loopback port; its postgres runs as
# the postgres OS user when this runs as root (the server refuses root).

with_password() {  # command...: run with PGPASSWORD when ODOO_DB_PASSWORD is set
    if [ -n "${ODOO_DB_PASSWORD:-}" ]; then env PGPASSWORD="$ODOO_DB_PASSWORD" "$@"; else "$@"; fi
}

pg_admin() {  # SQL on the test database's server, as the test role
    with_password psql -X -q -v ON_ERROR_STOP=1 -h "${ODOO_DB_HOST:-127.0.0.1}" \
        -p "${ODOO_DB_PORT:-5432}" -U "${ODOO_DB_USER:-$(id -un)}" -d postgres -Atc "$1"
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

replication_allowed() {  # conninfo of a replication connection
    with_password psql -X "$1 replication=true" -Atc "IDENTIFY_SYSTEM" >/dev/null 2>&1
}

grant_replication() {  # conninfo: replication connections on loopback, if pg_hba.conf lacks them
    # The rule added mirrors the server's loopback rule for every database
    # (same authentication method): it grants replication connections what
    # loopback connections already have, nothing more.
    local conninfo=$1 method hba _
    replication_allowed "$conninfo" && return 0
    method=$(pg_admin "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host'
                       AND 'all' = ANY(database) AND address = '127.0.0.1'
                       AND netmask = '255.255.255.255' AND error IS NULL
                       ORDER BY line_number LIMIT 1" 2>/dev/null)
    hba=$(pg_admin "SHOW hba_file" 2>/dev/null)
    if [ -z "$method" ] || [ -z "$hba" ] || [ ! -w "$hba" ]; then
        REPLICA_ERROR="the server refuses replication connections on loopback: add 'host replication all 127.0.0.1/32 <method>' to its pg_hba.conf and reload it"
        return 1
    fi
    echo "!!! $hba has no replication rule for loopback: adding 'host replication all 127.0.0.1/32 $method' (the method of its loopback rule) and reloading the server !!!"
    printf '\n# Added by secure_api tools/test.sh (replica stage): replication\n# connections on loopback, authenticated as the rule for all databases above.\nhost replication all 127.0.0.1/32 %s\n' \
        "$method" >>"$hba"
    pg_admin "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 20); do
        replication_allowed "$conninfo" && return 0
        sleep 0.5
    done
    REPLICA_ERROR="replication connections are still refused after adding a rule to $hba"
    return 1
}

start_replica() {  # database: a hot standby of its server (REPLICA_PORT), or REPLICA_ERROR
    local db=$1 host=${ODOO_DB_HOST:-127.0.0.1} port=${ODOO_DB_PORT:-5432}
    local user=${ODOO_DB_USER:-$(id -un)} version method slot setting
    version=$(pg_admin "SHOW server_version_num") || { REPLICA_ERROR="cannot query the server"; return 1; }
    REPLICA_BIN=${PG_BIN:-/usr/lib/postgresql/$((version / 10000))/bin}
    if [ ! -x "$REPLICA_BIN/pg_basebackup" ] || [ ! -x "$REPLICA_BIN/pg_ctl" ]; then
        REPLICA_ERROR="no PostgreSQL $((version / 10000)) server binaries in $REPLICA_BIN (set PG_BIN)"
        return 1
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        REPLICA_ERROR="running as root without a postgres OS user to run the replica as"
        return 1
    fi
    grant_replication "host=$host port=$port user=$user dbname=replication" || return 1
    # Slots left by runs that died: a slot keeps WAL on the server forever.
    for slot in $(pg_admin "SELECT slot_name FROM pg_replication_slots
                            WHERE slot_name LIKE 'secure\_api\_replica\_%' AND NOT active"); do
        kill -0 "${slot##*_}" 2>/dev/null ||
            pg_admin "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1
    done
    REPLICA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/secure_api_replica.XXXXXX")
    [ "$(id -u)" -eq 0 ] && chown postgres: "$REPLICA_DIR"
    REPLICA_PORT=$(free_port)
    REPLICA_SLOT="secure_api_replica_$$"
    echo "pg_basebackup of $host:$port into $REPLICA_DIR (slot $REPLICA_SLOT) ..."
    if ! as_postgres env ${ODOO_DB_PASSWORD:+PGPASSWORD="$ODOO_DB_PASSWORD"} "$REPLICA_BIN/pg_basebackup" \
            -h "$host" -p "$port" -U "$user" -D "$REPLICA_DIR/data" -R -C -S "$REPLICA_SLOT" \
            -X stream -c fast >"$WORK/basebackup.log" 2>&1; then
        REPLICA_ERROR="pg_basebackup failed: $(tail -n 3 "$WORK/basebackup.log" | tr '\n' ' ')"
        return 1
    fi
    method=$(pg_admin "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host'
                       AND 'all' = ANY(database) AND address = '127.0.0.1'
                       AND error IS NULL ORDER BY line_number LIMIT 1")
    {
        echo "port = $REPLICA_PORT"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$REPLICA_DIR'"
        echo "hot_standby = on"
        echo "fsync = off"
        echo "shared_buffers = 32MB"
        # A hot standby needs at least the primary's values of these.
        for setting in max_connections max_worker_processes max_wal_senders \
                max_prepared_transactions max_locks_per_transaction; do
            echo "$setting = $(pg_admin "SHOW $setting")"
        done
    } >"$REPLICA_DIR/data/postgresql.conf"
    printf 'local all all %s\nhost all all 127.0.0.1/32 %s\n' "${method:-trust}" "${method:-trust}" \
        >"$REPLICA_DIR/data/pg_hba.conf"
    : >"$REPLICA_DIR/data/pg_ident.conf"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$REPLICA_DIR"
    if ! as_postgres "$REPLICA_BIN/pg_ctl" -D "$REPLICA_DIR/data" -l "$REPLICA_DIR/postgres.log" \
            -w -t 120 start >/dev/null; then
        tail -n 20 "$REPLICA_DIR/postgres.log"
        REPLICA_ERROR="the replica did not start (its log above)"
        return 1
    fi
    if [ "$(with_password psql -X -h 127.0.0.1 -p "$REPLICA_PORT" -U "$user" \
            -d "$db" -Atc "SELECT pg_is_in_recovery()" 2>&1)" != t ]; then
        REPLICA_ERROR="the replica on port $REPLICA_PORT does not serve $db in recovery"
        return 1
    fi
    echo "replica of $db streaming on 127.0.0.1:$REPLICA_PORT"
}

stop_replica() {  # the standby, its folder and its slot, whatever state they are in
    if [ -n "${REPLICA_DIR:-}" ]; then
        if [ -f "$REPLICA_DIR/data/postmaster.pid" ]; then
            as_postgres "$REPLICA_BIN/pg_ctl" -D "$REPLICA_DIR/data" -m immediate -w stop >/dev/null 2>&1
        fi
        rm -rf "$REPLICA_DIR"
        REPLICA_DIR=
    fi
    if [ -n "${REPLICA_SLOT:-}" ]; then
        # The server's walsender lets the slot go a moment after the standby stops.
        for _ in $(seq 40); do
            [ "$(pg_admin "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$REPLICA_SLOT'" 2>/dev/null)" = 0 ] && break
            pg_admin "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                      WHERE slot_name = '$REPLICA_SLOT' AND NOT active" >/dev/null 2>&1
            sleep 0.25
        done
        REPLICA_SLOT=
    fi
}

has_replica_support() {  # the odoo command (without options)
    # 19.0 lists its commands on --help, and the server's options on
    # "server --help"; 17.0 has no --db_replica_host.
    local help
    help=$({ "$@" --help; "$@" server --help; } 2>/dev/null)
    grep -q -- '--db_replica_host' <<<"$help"
}

run_replica() {  # series database replica-support(yes/no), then the odoo command with its options
    local series=$1 db=$2 supported=$3 port log user=${ODOO_DB_USER:-$(id -un)}
    shift 3
    banner "replica suite on Odoo $series (a streaming replica, replay paused; plain HTTP)"
    if [ "$supported" != yes ]; then
        echo "Odoo $series has no read replica support (--db_replica_host): nothing to test"
        record "replica-$series" n/a "Odoo $series has no read replica support"
        return
    fi
    if [ -n "${SKIP_REPLICA:-}" ]; then
        echo "!!! replica suite SKIPPED: SKIP_REPLICA is set !!!"
        record "replica-$series" SKIPPED "SKIP_REPLICA is set"
        return
    fi
    if ! start_replica "$db"; then
        stop_replica
        echo "!!! replica suite: $REPLICA_ERROR !!!"
        record "replica-$series" FAILED "$REPLICA_ERROR"
        return
    fi
    log="$WORK/odoo-$series-replica.log"
    port=$(free_port)
    # Two workers: a change must reach the worker that did not make it too.
    echo "starting Odoo $series on http://127.0.0.1:$port, replica on port $REPLICA_PORT (log: $log) ..."
    if ! start_server "$log" "$port" "$@" -d "$db" --db-filter="^${db}\$" --workers=2 \
            --gevent-port="$(free_port)" --db_replica_host=127.0.0.1 \
            --db_replica_port="$REPLICA_PORT"; then
        stop_replica
        record "replica-$series" FAILED "Odoo did not start (see the log above)"
        return
    fi
    run_suite "replica-$series" tests/replica "$log" \
        SECURE_API_REPLICA_URL="http://127.0.0.1:$port" SECURE_API_REPLICA_DB="$db" \
        SECURE_API_REPLICA_LOGIN=admin SECURE_API_REPLICA_PASSWORD=admin \
        SECURE_API_REPLICA_PRIMARY="host=${ODOO_DB_HOST:-127.0.0.1} port=${ODOO_DB_PORT:-5432} user=$user dbname=$db" \
        SECURE_API_REPLICA_STANDBY="host=127.0.0.1 port=$REPLICA_PORT user=$user dbname=$db" \
        ${ODOO_DB_PASSWORD:+PGPASSWORD="$ODOO_DB_PASSWORD"}
    stop_replica
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
    # The live and replica suites run on the database the Odoo suite
    # installed, then it goes.
    run_live "$series" "$db" "${cmd[@]}" "${dbopts[@]}" "${load[@]}"
    local replica=no
    has_replica_support "${cmd[@]}" && replica=yes
    run_replica "$series" "$db" "$replica" "${cmd[@]}" "${dbopts[@]}" "${load[@]}"
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
