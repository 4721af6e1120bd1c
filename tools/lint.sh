#!/usr/bin/env bash
# The quality gates, one command for tools/test.sh and the pre-commit hooks:
#   tools/lint.sh ruff      ruff check and ruff format --check (OCA configuration)
#   tools/lint.sh pylint    pylint-odoo's mandatory checks
# PYTHON is the interpreter with requirements-dev.txt installed (python3).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-python3}
case ${1:-} in
    ruff)
        cd "$ROOT"
        "$PY" -m ruff check .
        "$PY" -m ruff format --check . ;;
    pylint)
        # pylint-odoo names the addon after its folder: lint it as secure_api.
        work=$(mktemp -d "${TMPDIR:-/tmp}/secure_api_lint.XXXXXX")
        trap 'rm -rf "$work"' EXIT
        ln -s "$ROOT" "$work/secure_api"
        cd "$work"
        "$PY" -m pylint --rcfile="$ROOT/.pylintrc-mandatory" secure_api ;;
    *) echo "usage: tools/lint.sh ruff|pylint" >&2; exit 2 ;;
esac
