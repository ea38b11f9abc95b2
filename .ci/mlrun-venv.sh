#!/usr/bin/env bash
# A virtualenv with MLRun's own SDK (it pins its own dependencies, so it lives apart from
# .venv), for the tests that run the real mlrun client against fnrun. Prints its python.
#   .ci/mlrun-venv.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.12.1
VENV=.venv-mlrun
PYTHON=${1:-$(command -v python3.11 || command -v python3)}
if ! "$VENV/bin/python" -c "import mlrun, sys; sys.exit(mlrun.__version__ != '$VERSION')" 2>/dev/null; then
  echo "installing mlrun==$VERSION into $VENV" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q "mlrun==$VERSION" >&2
fi
echo "$PWD/$VENV/bin/python"
