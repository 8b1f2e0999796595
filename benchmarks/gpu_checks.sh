#!/usr/bin/env bash
# The GPU checks of the project, in one command on a CUDA machine:
#   1. full-size models: training-step time and peak memory, fp32 against bf16 + channels_last (bench_models.py);
#   2. the whole notebook series on the full profile (paper-size models), both recipes, on the given data, on the GPU;
#   3. the full profile's training throughput, decoding in DataLoader workers, on a synthetic dataset written at
#      UCF101's resolution (bench_training.py; the share of each step spent waiting for data).
# Results go to benchmarks/results/{models,training_full}_cuda.json and to REPORTS (default reports-gpu/).
#
#   benchmarks/gpu_checks.sh --ucf101 DIR --hmdb51 DIR [--epochs N] [--work DIR] [--reports DIR] [--standin-weights]
#
# --standin-weights: on a machine without the pretrained weights, write random ones under their file names and in
# their layouts into a fresh weights folder (scripts/standin_weights.py): every code path runs, accuracies mean
# nothing.
# Python: $PYTHON, else .venv/bin/python, else python3. Steps run on when one fails; the exit status says if any did.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ucf="" hmdb="" epochs=2 work="${TMPDIR:-/tmp}/har-gpu" reports="reports-gpu" standin=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ucf101) ucf="$2"; shift 2 ;;
    --hmdb51) hmdb="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --reports) reports="$2"; shift 2 ;;
    --standin-weights) standin=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$ucf" ] && [ -n "$hmdb" ] || { echo "give --ucf101 DIR and --hmdb51 DIR" >&2; exit 2; }
py="${PYTHON:-}"
[ -n "$py" ] || { [ -x .venv/bin/python ] && py=.venv/bin/python || py=python3; }
export PYTHONUNBUFFERED=1 WANDB_MODE=disabled MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
mkdir -p "$work"
failed=()
step() {  # step NAME COMMAND...: run, time and report one step
  local name="$1"; shift
  echo "=== $name: $*"
  local start=$SECONDS
  "$@" || failed+=("$name")
  echo "=== $name: $((SECONDS - start)) s"
}
if [ "$standin" = 1 ]; then
  export HARUTILS_WEIGHTS="$work/weights-standin"
  step standin-weights "$py" scripts/standin_weights.py "$HARUTILS_WEIGHTS"
fi
"$py" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())" \
  || exit 1
step bench-models "$py" benchmarks/bench_models.py --device cuda
for recipe in reference improved; do  # both recipes of the full profile, each in its own folders
  step "series-$recipe" "$py" -m harutils.series --profile full --recipe "$recipe" --ucf101 "$ucf" --hmdb51 "$hmdb" \
    --device cuda --epochs "$epochs" --out-dir "$work/artifacts-$recipe" --data-dir "$work/data" \
    --reports "$reports/$recipe"
done
step synthetic "$py" -m harutils.data.synthetic --layout ucf101 --out "$work/synthetic_ucf101" --clips-per-group 2
step bench-training "$py" benchmarks/bench_training.py --profile full --epochs 2 \
  --data-root "$work/synthetic_ucf101" --data-dir "$work/data"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed steps: ${failed[*]}" >&2
  exit 1
fi
echo "all GPU checks passed"
