#!/usr/bin/env bash
# The Python environments the integration tier drives real clients and peers from (tritonclient, the kserve SDK,
# an MLflow server, ...): one venv per requirements file in test/python/, installed from PyPI with pinned versions.
# Each lives in ~/.cache/perennial/venvs/<name>-<hash of its requirements file>, so a fresh clone on this machine
# finds it again and a changed pin builds a new one. Tests find a venv with venvPath() in test/support/python-env.ts.
#   scripts/python-envs.sh            build every missing venv
#   scripts/python-envs.sh <name>     only test/python/<name>-requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${PERENNIAL_CACHE:-$HOME/.cache/perennial}/venvs"
mkdir -p "$cache"

build() {
  local req="$1" name hash dir
  name="$(basename "$req" -requirements.txt)"
  hash="$(sha256sum "$req" | cut -c1-12)"
  dir="$cache/$name-$hash"
  [ -x "$dir/bin/python" ] && [ -f "$dir/.complete" ] && return 0
  echo "python-envs: building $name from $req (once; cached in $dir)" >&2
  local start=$SECONDS
  # Built in place (a venv's scripts name its own path); .complete marks a finished one, so an interrupted build
  # is started again.
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
  touch "$dir/.complete"
  echo "python-envs: $name ready in $((SECONDS - start)) s" >&2
}

shopt -s nullglob
if [ $# -gt 0 ]; then
  for n in "$@"; do build "test/python/$n-requirements.txt"; done
else
  for req in test/python/*-requirements.txt; do build "$req"; done
fi
