#!/usr/bin/env bash
# Sets up .venv on first use (or when the pins change), then runs the whole test suite:
# unit tests and the slower notebook tests. Extra arguments go to pytest (e.g. -m "not notebook", -k video).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash scripts/setup_env.sh
# The report test renders reports/index.html in headless Chromium: install Debian's package when we can.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing chromium for the report rendering test" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "[setup] could not install chromium; the rendering test will say so" >&2
fi
export MPLBACKEND=Agg WANDB_MODE="${WANDB_MODE:-disabled}"
exec .venv/bin/python -m pytest "$@"
