#!/usr/bin/env bash
# A running demo of secure_api with one command (see README, "Quick start").
#
#   ODOO_BIN=/path/to/odoo-bin tools/demo.sh            # foreground, Ctrl-C stops it
#   ODOO_SRC=/path/to/odoo tools/demo.sh --detach       # background; --stop stops it
#
# It runs the Odoo you give it; given none, it sets one up with
# tools/odoo_setup.sh (a clone of ODOO_SOURCE at ODOO_SERIES, default 18.0,
# and a virtualenv with its requirements, cached in ~/.cache/secure_api).
# It installs secure_api with demo data into a database secure_api_demo
# (created on the first run, reused afterwards), starts Odoo on
# localhost:8069, checks that the demo client app gets a token, and prints
# the quick start's curl lines with that app's real credentials.
# Its state lives in .demo/ (git-ignored): logs, the pid file, Odoo's data
# directory (filestore, sessions) and, when needed, a private PostgreSQL
# cluster; delete .demo/ (after --stop) to forget it.
#
# Options:
#   --detach   run Odoo in the background (pid in .demo/odoo.pid, log in .demo/odoo.log)
#   --stop     stop a detached demo, and the private PostgreSQL cluster if one runs
#   --update   update the addon in the demo database (-u secure_api) before serving
#   --reset    drop the demo database first, then install it again
#   -h, --help this text
#
# Environment:
#   ODOO_BIN         an odoo-bin (or odoo) executable; else ODOO_SRC; else
#                    odoo-bin or odoo on PATH; else one set up from ODOO_SOURCE
#   ODOO_SOURCE      a git URL, local repository or git bundle to clone Odoo from
#                    (default: Odoo's official repository)
#   ODOO_SERIES      the series to set up that way (18.0)
#   ODOO_SRC         an Odoo source tree: runs $ODOO_SRC/odoo-bin
#   ODOO_PYTHON      Odoo's interpreter (default: <tree>/.venv/bin/python if present,
#                    else the odoo-bin's own interpreter, else python3)
#   ODOO_ADDONS_PATH extra addons directories, comma-separated
#   PGHOST PGPORT PGUSER PGPASSWORD  the PostgreSQL server (default: libpq's and
#                    Odoo's defaults, then 127.0.0.1:5432); when none answers, a
#                    private cluster is created in .demo/pg (not as root)
#   DEMO_PORT        Odoo's HTTP port (8069)
#   DEMO_INTERFACE   the address Odoo listens on (127.0.0.1)
#   DEMO_DB          the database (secure_api_demo)
#   DEMO_CLIENT_SECRET  the demo client's secret, if you changed it
#   DEMO_TIMEOUT     seconds to wait for Odoo to answer (180)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO_DIR=$ROOT/.demo
PORT=${DEMO_PORT:-8069}
INTERFACE=${DEMO_INTERFACE:-127.0.0.1}
DB=${DEMO_DB:-secure_api_demo}
TIMEOUT=${DEMO_TIMEOUT:-180}
PIDFILE=$DEMO_DIR/odoo.pid
LOG=$DEMO_DIR/odoo.log
PGDATA_DIR=$DEMO_DIR/pg
DATA_DIR=$DEMO_DIR/data   # Odoo's data directory: the demo's filestore and sessions

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$@" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

DETACH=0 STOP=0 UPDATE=0 RESET=0
for arg in "$@"; do
    case $arg in
        --detach) DETACH=1 ;;
        --stop) STOP=1 ;;
        --update) UPDATE=1 ;;
        --reset) RESET=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done
[[ $PORT =~ ^[0-9]+$ ]] || die "DEMO_PORT must be a port number, not '$PORT'"
[[ $DB =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || die "DEMO_DB '$DB' is not a plain database name"

# --------------------------------------------------------------------------
# PostgreSQL client tools: on PATH, else the newest server's bin directory.
pg_tool() {
    local name=$1 found
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    found=$(for path in /usr/lib/postgresql/*/bin/"$name" /usr/pgsql-*/bin/"$name"; do
                if [ -x "$path" ]; then echo "$path"; fi
            done | sort -V | tail -n 1)
    [ -n "$found" ] && echo "$found"
}

odoo_pid() {  # the pid of a demo Odoo still running, if any
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # Not another program that got the pid since (where /proc tells).
    if [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q odoo || return 1
    fi
    echo "$pid"
}

private_cluster_running() {
    [ -f "$PGDATA_DIR/PG_VERSION" ] && [ -n "$(pg_tool pg_ctl)" ] \
        && "$(pg_tool pg_ctl)" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

stop_private_cluster() {
    if private_cluster_running; then
        "$(pg_tool pg_ctl)" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
        say "stopped the private PostgreSQL cluster ($PGDATA_DIR)"
    fi
}

if [ $STOP -eq 1 ]; then
    if pid=$(odoo_pid); then
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        say "stopped Odoo (pid $pid)"
    else
        say "no demo Odoo is running"
    fi
    rm -f "$PIDFILE"
    stop_private_cluster
    exit 0
fi

if pid=$(odoo_pid); then
    die "a demo Odoo is already running (pid $pid, log $LOG)." \
        "Stop it first: $0 --stop"
fi

# --------------------------------------------------------------------------
# 1. Odoo: the one given, else one on PATH, else ODOO_SERIES (18.0) set up
#    from ODOO_SOURCE by tools/odoo_setup.sh (a cached clone and virtualenv).
TREE="" PY="" BIN=""
if [ -n "${ODOO_BIN:-}" ]; then
    BIN=$(command -v "$ODOO_BIN" 2>/dev/null || true)
    if [ -z "$BIN" ] || [ ! -f "$BIN" ]; then die "ODOO_BIN=$ODOO_BIN is not an executable file."; fi
elif [ -n "${ODOO_SRC:-}" ]; then
    [ -f "$ODOO_SRC/odoo-bin" ] || die "ODOO_SRC=$ODOO_SRC has no odoo-bin: give the root of an Odoo source tree."
    BIN=$ODOO_SRC/odoo-bin
else
    BIN=$(command -v odoo-bin 2>/dev/null || command -v odoo 2>/dev/null || true)
    if [ -z "$BIN" ]; then
        say "no Odoo given: setting up Odoo ${ODOO_SERIES:-18.0} from ${ODOO_SOURCE:-the official Odoo repository}"
        BIN=$("$ROOT/tools/odoo_setup.sh" "${ODOO_SERIES:-18.0}" | tail -n 1) ||
            die "Odoo could not be set up (see odoo-setup above); or give one with ODOO_BIN or ODOO_SRC."
    fi
fi
BIN=$(readlink -f "$BIN")
[ -f "$(dirname "$BIN")/odoo/release.py" ] && TREE=$(dirname "$BIN")

if [ -n "${ODOO_PYTHON:-}" ]; then
    PY=$ODOO_PYTHON
elif [ -n "$TREE" ] && [ -x "$TREE/.venv/bin/python" ]; then
    PY=$TREE/.venv/bin/python
else
    # The executable's own interpreter (#!/path/python3 or #!/usr/bin/env python3).
    shebang=$(head -n 1 "$BIN" | tr -d '\r')
    read -ra words <<<"${shebang#'#!'}"
    case $shebang in
        '#!'*python*)
            if [ "$(basename "${words[0]}")" = env ]; then PY=${words[1]}; else PY=${words[0]}; fi ;;
        *) if [ -n "${ODOO_SRC:-}" ]; then PY=python3; fi ;;
    esac
fi
[ -n "$PY" ] && ! command -v "$PY" >/dev/null 2>&1 && die "Odoo's interpreter $PY is not executable (set ODOO_PYTHON)."
if [ -n "$PY" ]; then CMD=("$PY" "$BIN"); else CMD=("$BIN"); fi
# A packaged Odoo (pip, deb) finds its addons itself; a source tree's
# top-level addons directory (web, ...) must be on the addons path.
if [ -z "$TREE" ] && [ -n "$PY" ]; then
    found=$(cd / && { "$PY" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))))' 2>/dev/null || true; })
    [ -n "$found" ] && [ -f "$found/odoo/release.py" ] && TREE=$found
fi

VERSION=$("${CMD[@]}" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+' | head -n 1 || true)
[ -n "$VERSION" ] || die "'${CMD[*]} --version' failed: is this an Odoo (set ODOO_PYTHON to its interpreter)?"
SERIES=${VERSION%%.*}
case $SERIES in
    17|18|19) ;;
    *) die "Odoo $VERSION found at $BIN: secure_api supports 17.0, 18.0 and 19.0." ;;
esac
say "Odoo $VERSION: ${CMD[*]}"
# A Python for this script's own small jobs (Odoo's when known).
HOSTPY=${PY:-python3}
command -v curl >/dev/null 2>&1 || die "curl is missing: the demo checks Odoo and prints its calls with curl (Debian: apt-get install curl)."

# The addon's runtime requirements, importable by Odoo's interpreter.
if [ -n "$PY" ]; then
    missing=()
    for pair in jwt:PyJWT hashids:hashids passlib:passlib; do
        "$PY" -c "import ${pair%%:*}" 2>/dev/null || missing+=("${pair#*:}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        names=$(printf '%s, ' "${missing[@]}")
        die "Odoo's interpreter ($PY) lacks ${names%, }, which secure_api needs." \
            "Install them into Odoo's environment (this script does not), then run it again:" \
            "    $PY -m pip install -r $ROOT/requirements.txt"
    fi
else
    say "Odoo's interpreter is unknown (set ODOO_PYTHON to check PyJWT, hashids and passlib)"
fi

# Demo data: 17.0 and 18.0 load it into a new database by default (there,
# --without-demo=False would be read as a true value and load none); 19.0
# needs --with-demo. 19.0 sources without the rpc addon cannot load the
# default server-wide modules (as in tools/test.sh).
DEMO_FLAGS=() LOAD=()
case $SERIES in
    17|18) DEMO_FLAGS=() ;;
    19) DEMO_FLAGS=(--with-demo)
        if [ -z "$TREE" ] || { [ ! -d "$TREE/addons/rpc" ] && [ ! -d "$TREE/odoo/addons/rpc" ]; }; then
            LOAD=("--load=base,web")
        fi ;;
esac

# The addons path: Odoo names an addon after its directory.
if [ "$(basename "$ROOT")" = secure_api ]; then
    ADDONS=$(dirname "$ROOT")
else
    # Outside the checkout, so that nothing walking the addon loops.
    link_dir=${XDG_CACHE_HOME:-$HOME/.cache}/secure_api/demo-addons/$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
    mkdir -p "$link_dir"
    ln -sfn "$ROOT" "$link_dir/secure_api"
    ADDONS=$link_dir
fi
[ -n "$TREE" ] && [ -d "$TREE/addons/web" ] && ADDONS=$TREE/addons,$ADDONS
[ -n "${ODOO_ADDONS_PATH:-}" ] && ADDONS=$ADDONS,$ODOO_ADDONS_PATH

# --------------------------------------------------------------------------
# 2. PostgreSQL: the private cluster of an earlier run, else the server of
# PGHOST/PGPORT/PGUSER (or libpq's defaults, then 127.0.0.1), else a new
# private cluster in .demo/pg.
PSQL=$(pg_tool psql || true)
PG_ISREADY=$(pg_tool pg_isready || true)
if [ -z "$PSQL" ] || [ -z "$PG_ISREADY" ]; then
    die "the PostgreSQL client tools (psql, pg_isready) are missing: install them (Debian: apt-get install postgresql-client; add postgresql for a local server)."
fi
mkdir -p "$DEMO_DIR"
chmod 700 "$DEMO_DIR"

can_connect() { "$PG_ISREADY" -q -d template1 && "$PSQL" -XAtq -d template1 -c 'select 1' >/dev/null 2>&1; }
free_port() {
    "$HOSTPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((40000 + RANDOM % 20000))
}

STARTED_CLUSTER=0
use_private_cluster() {
    local initdb pg_ctl port
    if [ "$(id -u)" -eq 0 ]; then
        die "no PostgreSQL server accepts connections from you (tried ${TRIED# or })," \
            "and PostgreSQL refuses to run a private cluster as root." \
            "Start a server (e.g. 'service postgresql start'; Odoo needs a role named like your user)," \
            "point PGHOST/PGPORT/PGUSER/PGPASSWORD at one, or run this script as a regular user."
    fi
    initdb=$(pg_tool initdb || true) pg_ctl=$(pg_tool pg_ctl || true)
    if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
        die "no PostgreSQL server answers, and initdb/pg_ctl were not found to start a private one." \
            "Install PostgreSQL (Debian: apt-get install postgresql) or point PGHOST/PGPORT/PGUSER at a server."
    fi
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        say "no PostgreSQL server accepts you (tried ${TRIED# or }): creating a private cluster in $PGDATA_DIR"
        rm -rf "$PGDATA_DIR"
        (umask 077 && "$HOSTPY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$DEMO_DIR/pg.password")
        "$initdb" -D "$PGDATA_DIR" -U "$(id -un)" -E UTF8 --no-locale --auth=scram-sha-256 \
            --pwfile="$DEMO_DIR/pg.password" >"$DEMO_DIR/initdb.log" 2>&1 \
            || { tail -n 20 "$DEMO_DIR/initdb.log"; die "initdb failed (log: $DEMO_DIR/initdb.log)"; }
        # TCP on loopback only, with a password; no Unix socket to place.
        printf "%s\n" "listen_addresses = '127.0.0.1'" "unix_socket_directories = ''" >>"$PGDATA_DIR/postgresql.conf"
    fi
    if "$pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        port=$(sed -n 4p "$PGDATA_DIR/postmaster.pid")
        say "reusing the private PostgreSQL cluster on 127.0.0.1:$port"
    else
        port=$(cat "$DEMO_DIR/pg.port" 2>/dev/null || true)
        if [ -z "$port" ] || "$PG_ISREADY" -q -h 127.0.0.1 -p "$port"; then port=$(free_port); fi
        "$pg_ctl" -D "$PGDATA_DIR" -l "$DEMO_DIR/pg.log" -o "-p $port" -w start >/dev/null \
            || { tail -n 20 "$DEMO_DIR/pg.log"; die "the private PostgreSQL cluster did not start (log: $DEMO_DIR/pg.log)"; }
        STARTED_CLUSTER=1
        say "started the private PostgreSQL cluster on 127.0.0.1:$port"
    fi
    echo "$port" >"$DEMO_DIR/pg.port"
    PGHOST=127.0.0.1 PGPORT=$port PGUSER=$(id -un) PGPASSWORD=$(cat "$DEMO_DIR/pg.password")
    export PGHOST PGPORT PGUSER PGPASSWORD
}

TRIED=" or ${PGHOST:-the default socket}:${PGPORT:-5432} as ${PGUSER:-$(id -un)}"
[ -z "${PGHOST:-}" ] && TRIED="$TRIED or 127.0.0.1:${PGPORT:-5432}"
if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
    use_private_cluster
elif can_connect; then
    say "using the PostgreSQL server at ${PGHOST:-the default socket}:${PGPORT:-5432} as ${PGUSER:-$(id -un)}"
elif [ -z "${PGHOST:-}" ] && PGHOST=127.0.0.1 can_connect; then
    export PGHOST=127.0.0.1
    say "using the PostgreSQL server at 127.0.0.1:${PGPORT:-5432} as ${PGUSER:-$(id -un)}"
else
    use_private_cluster
fi
# Odoo reads the same server: libpq takes PGHOST, PGPORT, PGUSER and
# PGPASSWORD from the environment when no --db_* option is given.
DBOPTS=()
[ -n "${PGHOST:-}" ] && DBOPTS+=(--db_host="$PGHOST")
[ -n "${PGPORT:-}" ] && DBOPTS+=(--db_port="$PGPORT")
[ -n "${PGUSER:-}" ] && DBOPTS+=(--db_user="$PGUSER")

sql() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 "$@" 2>/dev/null; }
db_exists() { [ "$(sql -d template1 -c "select 1 from pg_database where datname = '$DB'")" = 1 ]; }
drop_db() {
    sql -d template1 -c "drop database \"$DB\"" >/dev/null || die "could not drop the database $DB (is an Odoo still using it?)"
    rm -rf "${DATA_DIR:?}/filestore/$DB"
}

# --------------------------------------------------------------------------
# 3. The demo database: created and installed once, then reused.
if [ $RESET -eq 1 ] && db_exists; then
    say "--reset: dropping the database $DB"
    drop_db
fi
if db_exists && [ -f "$DEMO_DIR/$DB.installing" ]; then
    say "the database $DB is left from an interrupted install: installing it again"
    drop_db
fi
if db_exists; then
    base=$(sql -d "$DB" -c "select latest_version from ir_module_module where name = 'base'" || true)
    demo=$(sql -d "$DB" -c "select 1 from ir_module_module m join secure_api_client c on c.client_id = 'demo-client' where m.name = 'secure_api' and m.state = 'installed' limit 1" || true)
    if [ -z "$base" ] || [ "$demo" != 1 ]; then
        die "the database $DB exists but is not a secure_api demo database." \
            "Drop it ($0 --reset) or choose another name (DEMO_DB=...)."
    fi
    [ "${base%%.*}" = "$SERIES" ] \
        || die "the database $DB was made by Odoo ${base%.*.*}, not $VERSION: use that Odoo, or $0 --reset."
    say "reusing the database $DB (secure_api installed, with demo data)"
else
    say "creating the database $DB with demo data: -i base,web,secure_api (a minute or two) ..."
    touch "$DEMO_DIR/$DB.installing"
    if ! "${CMD[@]}" "${DBOPTS[@]}" "${LOAD[@]}" --addons-path="$ADDONS" --data-dir="$DATA_DIR" -d "$DB" \
            -i base,web,secure_api "${DEMO_FLAGS[@]}" --stop-after-init --http-port="$PORT" \
            --http-interface=127.0.0.1 --max-cron-threads=0 --log-level=warn \
            --logfile="$DEMO_DIR/install.log"; then
        tail -n 40 "$DEMO_DIR/install.log"
        die "installing failed (log: $DEMO_DIR/install.log)"
    fi
    demo=$(sql -d "$DB" -c "select 1 from secure_api_client where client_id = 'demo-client'" || true)
    [ "$demo" = 1 ] || die "secure_api installed without its demo data (log: $DEMO_DIR/install.log)"
    rm -f "$DEMO_DIR/$DB.installing"
    say "installed (log: $DEMO_DIR/install.log)"
fi

# The demo client app's credentials, from the addon's demo data.
read -r CLIENT_ID CLIENT_SECRET < <("$HOSTPY" - "$ROOT"/demo/*.xml <<'EOF'
import sys
import xml.etree.ElementTree as ET

client_id = secret = None
for path in sys.argv[1:]:
    for node in ET.parse(path).getroot():
        if node.tag == "record" and node.get("model") == "secure.api.client":
            for field in node.iter("field"):
                if field.get("name") == "client_id":
                    client_id = (field.text or "").strip()
        if node.tag == "function" and node.get("name") == "_set_demo_secret":
            values = node.findall("value")
            if len(values) > 1:
                secret = (values[-1].text or "").strip()
print(client_id or "demo-client", secret or "-")
EOF
) || die "could not read the demo client app from $ROOT/demo/*.xml"
CLIENT_SECRET=${DEMO_CLIENT_SECRET:-$CLIENT_SECRET}
printf -v Q_ID '%q' "$CLIENT_ID"
printf -v Q_SECRET '%q' "$CLIENT_SECRET"

# --------------------------------------------------------------------------
# 4. Odoo on localhost:$PORT.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use: stop what listens there, or choose another (DEMO_PORT=...)."
fi
SERVE=("${CMD[@]}" "${DBOPTS[@]}" "${LOAD[@]}" --addons-path="$ADDONS" --data-dir="$DATA_DIR" -d "$DB"
       --http-port="$PORT" --http-interface="$INTERFACE" --logfile="$LOG")
[ $UPDATE -eq 1 ] && SERVE+=(-u secure_api)

cleanup() {
    if [ -n "${ODOO_PID:-}" ] && kill -0 "$ODOO_PID" 2>/dev/null; then
        kill "$ODOO_PID" 2>/dev/null || true
        wait "$ODOO_PID" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    [ $STARTED_CLUSTER -eq 1 ] && stop_private_cluster
    return 0
}

say "starting Odoo on http://localhost:$PORT (log: $LOG) ..."
if [ $DETACH -eq 1 ]; then
    if command -v setsid >/dev/null 2>&1; then
        nohup setsid "${SERVE[@]}" >>"$DEMO_DIR/odoo.out" 2>&1 </dev/null &
    else
        nohup "${SERVE[@]}" >>"$DEMO_DIR/odoo.out" 2>&1 </dev/null &
    fi
else
    "${SERVE[@]}" >>"$DEMO_DIR/odoo.out" 2>&1 </dev/null &
fi
ODOO_PID=$!
echo "$ODOO_PID" >"$PIDFILE"
if [ $DETACH -eq 0 ]; then
    trap 'echo; say "stopping"; cleanup; exit 0' INT TERM
fi

http_status() {  # method url [curl options...]: the HTTP status, 000 when none
    local method=$1 url=$2
    shift 2
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$method" "$@" "$url" 2>/dev/null || true
}
BASE=http://localhost:$PORT
deadline=$((SECONDS + TIMEOUT))
until [ "$(http_status GET "http://127.0.0.1:$PORT/web/login")" = 200 ]; do
    if ! kill -0 "$ODOO_PID" 2>/dev/null; then
        tail -n 40 "$LOG" 2>/dev/null || true
        cleanup
        die "Odoo stopped before answering (log: $LOG)"
    fi
    if [ $SECONDS -ge $deadline ]; then
        tail -n 40 "$LOG" 2>/dev/null || true
        cleanup
        die "Odoo did not answer /web/login within $TIMEOUT s (log: $LOG; DEMO_TIMEOUT=... to wait longer)"
    fi
    sleep 1
done
say "Odoo answers: $BASE/web/login (demo database: admin / admin)"

status=$(http_status POST "http://127.0.0.1:$PORT/api/oauth2/token" \
         -F "client_id=$CLIENT_ID" -F "client_secret=$CLIENT_SECRET")
if [ "$status" = 200 ]; then
    say "checked: the demo client '$CLIENT_ID' gets a token (HTTP 200)"
else
    say "WARNING: the token endpoint answered $status to the demo client '$CLIENT_ID'."
    say "Its secret was changed in this database: pass it as DEMO_CLIENT_SECRET=..., or"
    say "regenerate it (Secure API > Client Apps > Demo client > Regenerate Secret), or $0 --reset."
fi

cat <<EOF

==== secure_api demo: copy and paste ====
BASE=$BASE
# 1. a token (OAuth 2.0 client credentials)
TOKEN=\$(curl -s -X POST -F client_id=$Q_ID -F client_secret=$Q_SECRET \\
        \$BASE/api/oauth2/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# 2. search (-g: the brackets of the domain are not a curl glob)
curl -sg -w '\nHTTP %{http_code}\n' -H "Authorization: Bearer \$TOKEN" \\
     "\$BASE/api/partner/rest?limit=5&domain=[(\"name\",\"ilike\",\"a\")]"
# 3. create, then read it back
ID=\$(curl -s -X POST -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application/json" \\
     -d '{"name": "Test Partner"}' \$BASE/api/partner/rest | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["id"])')
echo "created: \$ID"
curl -s -w '\nHTTP %{http_code}\n' -H "Authorization: Bearer \$TOKEN" \$BASE/api/partner/rest/\$ID
# 4. update, delete
curl -s -w '\nHTTP %{http_code}\n' -X PATCH -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application/json" \\
     -d '{"phone": "+32 2 290 34 90"}' \$BASE/api/partner/rest/\$ID
curl -s -w '\nHTTP %{http_code}\n' -X DELETE -H "Authorization: Bearer \$TOKEN" \$BASE/api/partner/rest/\$ID
==========================================
Interactive docs: $BASE/api/docs (log in first)   Web client: $BASE/web/login (admin / admin)
The demo secret is public: regenerate it before any real use.
EOF

if [ $DETACH -eq 1 ]; then
    echo "Odoo runs in the background (pid $ODOO_PID, log $LOG). Stop it with: $0 --stop"
    exit 0
fi
echo "Odoo runs in the foreground (log $LOG). Ctrl-C stops it."
set +e
wait "$ODOO_PID"
rc=$?
trap - INT TERM
cleanup
exit $rc
