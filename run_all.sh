#!/usr/bin/env bash
# Sets up .venv on first use, then executes every notebook headless with papermill into reports/executed/,
# renders each to HTML in reports/, and writes reports/index.html (harutils/series.py, harutils/index_page.py).
#   ./run_all.sh [--profile demo|full] [--ucf101 DIR] [--hmdb51 DIR] [--device cuda] [--only 03,07] [--failfast]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash scripts/setup_env.sh
export PYDEVD_DISABLE_FILE_VALIDATION=1
exec .venv/bin/python -m harutils.series "$@"
