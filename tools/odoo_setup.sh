#!/usr/bin/env bash
# Gets Odoo ready to run, per series, for tools/test.sh and tools/demo.sh:
# a clone of ODOO_SOURCE at the series' branch and a virtualenv with that
# tree's requirements and ours, both cached and reused.
#
#   tools/odoo_setup.sh 17.0 18.0 19.0
#
# Prints one line per series on standard output, the odoo-bin to run:
#   <cache>/odoo-18.0/src/odoo-bin
# (its interpreter is <cache>/odoo-18.0/src/.venv/bin/python, where the
# test and demo scripts look for it). Progress goes to standard error.
# Exits non-zero, naming the step, when a series cannot be set up.
#
# Environment:
#   ODOO_SOURCE   a git URL, a local repository or a git bundle
#                 (default: Odoo's official repository)
#   SECURE_API_CACHE  the cache folder (default ~/.cache/secure_api, or
#                 $XDG_CACHE_HOME/secure_api)
#   ODOO_SETUP_PYTHON the interpreter the virtualenvs are made from (python3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOURCE=${ODOO_SOURCE:-https://github.com/odoo/odoo.git}
CACHE=${SECURE_API_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/secure_api}
BASE_PY=${ODOO_SETUP_PYTHON:-python3}

say() { printf 'odoo-setup: %s\n' "$*" >&2; }
die() { printf 'odoo-setup: FAILED: %s\n' "$*" >&2; exit 1; }

[ $# -gt 0 ] || die "name at least one series (17.0, 18.0, 19.0)"
# A relative local source is read from where the caller stands.
if [ -e "$SOURCE" ]; then SOURCE=$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE"); fi

clone() {  # series dir
    local series=$1 dir=$2 tmp
    local -a depth=(--depth 1 --single-branch)
    # A local repository or bundle clones without a network; git ignores
    # --depth there (and refuses it for a bundle), so only remote URLs get it.
    [ -e "$SOURCE" ] && depth=(--single-branch)
    tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    say "$series: cloning $SOURCE (branch $series) into $dir ..."
    if ! git clone -q "${depth[@]}" -b "$series" "$SOURCE" "$tmp" >&2; then
        rm -rf "$tmp"
        die "$series: git clone of branch $series from $SOURCE failed"
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
    printf '%s\n' "$SOURCE" >"$dir/.secure_api_source"
}

requirements() {  # odoo tree -> the substituted requirements file on stdout
    # No compiler or LDAP server is assumed: psycopg2 comes as its binary
    # wheel, python-ldap is left out, and gevent still imports pkg_resources.
    sed -E -e 's/^psycopg2([=<>~! ;]|$)/psycopg2-binary\1/' -e '/^python-ldap([=<>~! ;]|$)/d' \
        "$1/requirements.txt"
    echo 'setuptools<81'
}

make_venv() {  # series tree
    local series=$1 tree=$2 venv=$2/.venv stamp req want
    stamp=$venv/.secure_api_stamp
    req="$tree/.secure_api_requirements.txt"
    requirements "$tree" >"$req"
    # Up to date when built from the same requirements (Odoo's, the addon's
    # and the Odoo suite's); otherwise pip adds what changed.
    want=$(cat "$req" "$ROOT/requirements.txt" "$ROOT/tests/requirements.txt" | sha256sum | cut -c1-16)
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        say "$series: virtualenv $venv is current"
        return 0
    fi
    if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        rm -rf "$venv"
        say "$series: creating the virtualenv $venv ..."
        "$BASE_PY" -m venv "$venv" >&2 || die "$series: '$BASE_PY -m venv' failed"
    fi
    say "$series: pip install of Odoo's requirements and ours (a cold cache takes a few minutes) ..."
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 'setuptools<81' wheel >&2 ||
       ! "$venv/bin/python" -m pip install -q --disable-pip-version-check \
            -r "$req" -r "$ROOT/requirements.txt" -r "$ROOT/tests/requirements.txt" >&2; then
        die "$series: pip install of $req, requirements.txt and tests/requirements.txt failed (see the pip output above)"
    fi
    echo "$want" >"$stamp"
}

setup() {  # series
    local series=$1 dir=$CACHE/odoo-$1
    mkdir -p "$CACHE"
    local tree=$dir/src
    # A cached tree is reused unless ODOO_SOURCE names another source.
    if [ ! -f "$tree/odoo-bin" ] ||
       { [ -n "${ODOO_SOURCE:-}" ] && [ "$(cat "$tree/.secure_api_source" 2>/dev/null)" != "$SOURCE" ]; }; then
        mkdir -p "$dir"
        clone "$series" "$tree"
    else
        say "$series: reusing $tree (cloned from $(cat "$tree/.secure_api_source" 2>/dev/null))"
    fi
    make_venv "$series" "$tree"
    "$tree/.venv/bin/python" "$tree/odoo-bin" --version >/dev/null 2>&1 ||
        die "$series: '$tree/odoo-bin --version' does not run in its virtualenv"
    echo "$tree/odoo-bin"
}

for series in "$@"; do
    case $series in
        17.0|18.0|19.0) setup "$series" ;;
        *) die "unsupported series '$series' (17.0, 18.0 or 19.0)" ;;
    esac
done
