#!/usr/bin/env bash
# Sets up .venv on first use (or when the pins change), then runs the whole test suite:
# unit tests and the slower notebook tests. Extra arguments go to pytest (e.g. -m "not notebook", -k video).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash scripts/setup_env.sh
export MPLBACKEND=Agg WANDB_MODE="${WANDB_MODE:-disabled}"
exec .venv/bin/python -m pytest "$@"
