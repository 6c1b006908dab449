#!/usr/bin/env bash
# Installs what the tests need (Python packages in .venv, the npm calendar parsers) and runs them.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m slow` for the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'

if [ -f tests/js/package.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi

exec .venv/bin/python -m pytest "$@"
