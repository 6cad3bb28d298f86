#!/usr/bin/env bash
# Creates the Python virtualenvs the rehearsal generators run in, one per framework version,
# each from its pinned requirements file (requirements/NAME.txt → target/rehearsal/venv-NAME).
# Idempotent: a venv whose requirements have not changed is left as it is. Safe to run from
# several processes at once (they take turns on a lock).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CARGO_TARGET_DIR:-$root/target}/rehearsal"
python="${PYTHON:-python3}"
mkdir -p "$out"

exec 9>"$out/setup.lock"
flock 9

for requirements in "$here"/requirements/*.txt; do
  name="$(basename "$requirements" .txt)"
  venv="$out/venv-$name"
  stamp="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -f "$venv/.requirements" ] && [ "$(cat "$venv/.requirements")" = "$stamp" ]; then
    continue
  fi
  echo "rehearsal: creating $venv" >&2
  # Debian's python3 creates virtualenvs only with python3-venv (its ensurepip).
  "$python" -c 'import ensurepip' 2>/dev/null || {
    echo "cannot create a virtualenv with $python: install the Debian package python3-venv" >&2
    exit 1
  }
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  echo "$stamp" >"$venv/.requirements"
done
