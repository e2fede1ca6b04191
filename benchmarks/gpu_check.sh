#!/usr/bin/env bash
# GPU check for issue 7 (backends table, cuDNN check, raw torch floor, a short study,
# trials per hour against 2 CPU cores).
# PREPARED, NOT YET RUN: no GPU was lent to the session that wrote it.
#
# Run through the device tool from the repository root, about 5 minutes of device time (at most 6.5):
#   run(command="bash benchmarks/gpu_check.sh", carry=["wheelhouse"], timeout_s=480)
# The GPU machines have no network and no TensorFlow build; JAX (CUDA) and torch are expected
# to be importable there already. Pure-Python wheels stacksearch needs that may be missing
# (keras, optuna, ...) can be carried in ./wheelhouse (git-ignored), made here with
#   pip download --no-deps -d wheelhouse keras optuna optree namex ml-dtypes h5py rich alembic colorlog
# Everything is written to $OUT (backends.txt, raw_torch.txt, study.txt, throughput.txt, nvidia-smi.txt).
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
deadline() { timeout "$@"; }

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
date -u +%FT%TZ > "$OUT/date.txt"
if [ -d wheelhouse ]; then
  $PY -m pip install -q --no-index --find-links wheelhouse keras optuna 2>&1 | tail -2
fi
$PY -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2 || export PYTHONPATH=$PWD
$PY - <<'PY' > "$OUT/versions.txt" 2>&1
import importlib
for m in ("keras", "jax", "torch", "optuna"):
    try:
        mod = importlib.import_module(m); print(m, mod.__version__)
    except Exception as e: print(m, "missing:", e)
try:
    import jax; print("jax devices", jax.devices())
except Exception as e: print(e)
PY
cat "$OUT/versions.txt"

SHAPES="1x64 2x256 4x256 4x1024 8x256"
# 1. backends at the REFERENCES.md shapes (16,384 sequences, T=100, batch 256), cuDNN forced off as a check
deadline 150 $PY benchmarks/backends.py --backends jax torch --shapes $SHAPES --length 100 \
  --n 16384 --batch 256 --epochs 3 --rounds 1 --cudnn-check --json "$OUT/backends.json" | tee "$OUT/backends.txt"
# 2. the floor: raw torch.nn.LSTM (cuDNN) on the same shapes, same run
deadline 45 $PY benchmarks/raw_torch_lstm.py --shapes $SHAPES --length 100 --n 16384 --batch 256 \
  | tee "$OUT/raw_torch.txt"
# 3. per-trial overhead of a short study on the GPU (JAX)
deadline 75 $PY benchmarks/per_trial.py --backends jax --freeze on --trials 6 --epochs 5 | tee "$OUT/study.txt"
# 4. item 6: trials per hour, 4 workers sharing the GPU against 2 pinned CPU cores, run side by side
deadline 110 $PY benchmarks/gpu_throughput.py --seconds 60 --gpu-workers 4 | tee "$OUT/throughput.txt"
echo "gpu_check done: $(ls "$OUT")"
