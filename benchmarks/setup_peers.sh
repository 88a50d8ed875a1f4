#!/bin/sh
# Make benchmarks/.venv-peers: coffea and ROOT (PyPI's `root` package, for RDataFrame), the
# peers that `make bench` compares adlc with. A separate environment, so that neither can move
# the project's own .venv, but pinned to .venv's numpy, numba, awkward, uproot and hist, so that
# every implementation in the table uses the same libraries. Either peer failing to install is
# not an error: its row then says "not installed".
#   sh benchmarks/setup_peers.sh            (PYTHON=python3.11 to choose the interpreter)
set -u
VENV=benchmarks/.venv-peers
[ -f "$VENV/.installed" ] && exit 0
PYTHON=${PYTHON:-python3}
echo "== $VENV: coffea and ROOT for the peer rows of make bench (about 1.7 GB, a few minutes)"
$PYTHON -m venv "$VENV" || exit 0
"$VENV/bin/python" -m pip install --quiet --upgrade pip
.venv/bin/python -m pip freeze \
  | grep -iE '^(numpy|numba|llvmlite|awkward|awkward[-_]cpp|uproot|hist|boost[-_]histogram)==' \
  > "$VENV/constraints.txt"
"$VENV/bin/python" -m pip install --quiet -c "$VENV/constraints.txt" coffea \
  || echo "   coffea did not install: its rows will say 'not installed'"
"$VENV/bin/python" -m pip install --quiet -c "$VENV/constraints.txt" 'root>=0.1a0' \
  || echo "   root did not install: the RDataFrame rows will say 'not installed'"
touch "$VENV/.installed"
