#!/usr/bin/env bash
# Creates or refreshes .venv with the pinned dependencies and harutils (editable).
# Idempotent: keyed on a hash of the dependency spec, so a second call takes well under a second.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.harutils-setup-hash"
python="${PYTHON:-python3}"

spec_hash() { cat "$root/pyproject.toml" "$root/scripts/setup_env.sh" | sha256sum | cut -d' ' -f1; }
want="$(spec_hash)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "[setup] creating/refreshing $venv (dependency spec changed or venv missing); this takes a few minutes once" >&2
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
quiet_pip() {
  # pip's configured local wheel folders that this machine lacks produce one warning per package: hide those.
  "$venv/bin/python" -m pip "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  return "${PIPESTATUS[0]}"
}
quiet_pip install --quiet --upgrade pip
quiet_pip install --quiet -e "$root[notebook,dev]"  # the package, the notebooks' and the tests' extras
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (harutils)" >/dev/null
echo "$want" > "$stamp"
echo "[setup] done" >&2
