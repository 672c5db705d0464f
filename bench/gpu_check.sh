#!/usr/bin/env bash
# On a GPU machine: train TPS-ResNet-BiLSTM-CTC for a few hundred iterations in each launch form and
# print the training images/s of each (steady state: the second half of the iterations).
#
#   bench/gpu_check.sh TRAIN_LMDB VALID_LMDB [ITERATIONS] [BATCH]
#
# Forms: one GPU fp32, one GPU --amp, a 1-GPU torchrun launch --amp (DistributedDataParallel, NCCL), and
# with several GPUs DataParallel and torchrun over all of them. Under 8 minutes on one H100 at the defaults.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TRAIN=${1:?usage: bench/gpu_check.sh TRAIN_LMDB VALID_LMDB [ITERATIONS] [BATCH]}
VALID=${2:?usage: bench/gpu_check.sh TRAIN_LMDB VALID_LMDB [ITERATIONS] [BATCH]}
ITERS=${3:-300}
BATCH=${4:-192}
OUT=$(mktemp -d)
GPUS=$($PY -c 'import torch; print(torch.cuda.device_count())')
[ "$GPUS" -ge 1 ] || { echo "error: no CUDA device visible"; exit 2; }
COMMON=(--train_data "$TRAIN" --valid_data "$VALID" --Transformation TPS --FeatureExtraction ResNet
        --SequenceModeling BiLSTM --Prediction CTC --batch_size "$BATCH" --num_iter "$ITERS"
        --valInterval $((ITERS / 2)) --saveInterval "$ITERS" --workers "$(nproc)" --saved_folder "$OUT" --quiet)

speed() {  # the last 'Train speed' line of a run: the second half, after warm-up
  grep 'Train speed' "$OUT/$1/log_train.txt" 2>/dev/null | tail -1 | awk '{print $3}'
}
run() {  # name, then the launcher and flags
  local name=$1; shift
  local start=$SECONDS
  if "$@" --exp_name "$name" > "$OUT/$name.out" 2>&1; then
    printf '%-28s %10s images/s   (%d s)\n' "$name" "$(speed "$name")" $((SECONDS - start))
  else
    printf '%-28s FAILED: %s\n' "$name" "$(tail -1 "$OUT/$name.out")"
  fi
}

echo "TPS-ResNet-BiLSTM-CTC, batch $BATCH, $ITERS iterations, $GPUS GPU(s): $($PY -c 'import torch; print(torch.cuda.get_device_name(0))')"
CUDA_VISIBLE_DEVICES=0 run single-gpu-fp32 $PY train.py "${COMMON[@]}" --amp off
CUDA_VISIBLE_DEVICES=0 run single-gpu-amp $PY train.py "${COMMON[@]}" --amp
CUDA_VISIBLE_DEVICES=0 run torchrun-1gpu-amp $PY -m torch.distributed.run --standalone --nproc_per_node=1 \
    train.py "${COMMON[@]}" --amp
if [ "$GPUS" -ge 2 ]; then
  run "dataparallel-${GPUS}gpu-amp" $PY train.py "${COMMON[@]}" --amp
  run "torchrun-${GPUS}gpu-amp" $PY -m torch.distributed.run --standalone --nproc_per_node="$GPUS" \
      train.py "${COMMON[@]}" --amp --workers $(( $(nproc) / GPUS ))
else
  echo "dataparallel: skipped (one GPU: train.py uses DataParallel only with several)"
fi
rm -rf "$OUT"
