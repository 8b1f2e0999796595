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
pip_log="$(mktemp)"
trap 'rm -f "$pip_log"' EXIT
quiet_pip() {
  # pip's configured local wheel folders that this machine lacks produce one warning per package: hide those.
  local status=0
  "$venv/bin/python" -m pip "$@" >"$pip_log" 2>&1 || status=$?
  grep -v "is ignored: it is neither a file nor a directory" "$pip_log" >&2 || true
  if [ "$status" -ne 0 ]; then
    echo "[setup] 'pip $*' failed (exit $status; its output is above); free disk: $(df -h "$root" | awk 'NR==2 {print $4}')." >&2
    echo "[setup] remedy: fix what pip names (a full disk: the venv needs about 7 GB), then rerun; nothing was marked done." >&2
    exit "$status"
  fi
}
free_kb="$(df -Pk "$root" | awk 'NR==2 {print $4}')"
if [ "$free_kb" -lt 8000000 ]; then
  echo "[setup] warning: only $((free_kb / 1024)) MB free on the disk of $root; the venv needs about 7 GB" >&2
fi
quiet_pip install --quiet --upgrade pip
quiet_pip install --quiet -e "$root[notebook,dev]"  # the package, the notebooks' and the tests' extras
# A venv that pip left half-written (a full disk, an interrupted run) must not be marked done.
if ! "$venv/bin/python" -c "import torch, torchvision, nbformat, papermill, harutils" 2>"$pip_log"; then
  cat "$pip_log" >&2
  echo "[setup] $venv does not import its dependencies; remedy: rm -rf $venv, free disk, rerun." >&2
  exit 1
fi
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (harutils)" >/dev/null
echo "$want" > "$stamp"
echo "[setup] done" >&2
