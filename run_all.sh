#!/usr/bin/env bash
# Sets up .venv on first use, executes every notebook in notebooks/ headless with papermill into
# reports/executed/, and renders each to HTML in reports/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash scripts/setup_env.sh
export MPLBACKEND=Agg
mkdir -p reports/executed
shopt -s nullglob
notebooks=(notebooks/[0-9][0-9]_*.ipynb)
if [ ${#notebooks[@]} -eq 0 ]; then
  echo "run_all: no notebooks in notebooks/ yet; setup is done"
  exit 0
fi
failed=()
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb")
  echo "run_all: executing $name"
  if .venv/bin/papermill --cwd notebooks "$nb" "reports/executed/$name"; then
    .venv/bin/jupyter nbconvert --to html --no-input --output-dir reports "reports/executed/$name"
  else
    failed+=("$name")
    echo "run_all: $name FAILED; partial output in reports/executed/$name" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_all: failed notebooks: ${failed[*]}" >&2
  exit 1
fi
