#!/usr/bin/env bash
# Continue the shipped model on photo-like crops, on the CPU: the numbered steps (synth_aihub.py
# --style photo -> aihub_dataset.py -> get_images.py -> create_lmdb_dataset.py -> train.py) with the
# training resumed from pretrained_models/kocrnn-train-state.pth (or RESUME), for MINUTES of training.
# Half of each batch stays clean print: signs, menus and numbers (--style print) and Korean words and
# phrases (--style print --text words), so the model keeps reading clean Korean type. A coverage source
# (--style photo --text coverage: every syllable about equally often, lone characters, units, masked
# numbers, label phrases with commas and brackets) joins when COVER_IMAGES > 0.
#
#   scripts/train_photo_cpu.sh WORK_DIR            # data, then training
#   STEPS=train RESUME=saved_models/kocrnn-photo/last.pth scripts/train_photo_cpu.sh WORK_DIR   # go on
#   STEPS=data DRAW=2 SEED=61 PHOTO_IMAGES=0 PRINT_IMAGES=0 KWORDS_IMAGES=80000 scripts/train_photo_cpu.sh WORK_DIR
#       # a fresh draw beside the first (lmdb/train/kwords2); --select_data matches it with kwords
#   STEPS=train TRAIN_FLAGS="--FT --imgW 192" scripts/train_photo_cpu.sh WORK_DIR
#       # a new run from RESUME's weights (fresh optimiser) with wider input; any train.py flags go here
#
# The weights to ship are exported by hand after bench/bench_accuracy.py has compared them with the
# shipped model on real photographs (README model card):
#   python3 scripts/export_pretrained.py saved_models/$EXP/best_accuracy.pth pretrained_models/kocrnn.pth --half
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
WORK=${1:?usage: scripts/train_photo_cpu.sh WORK_DIR}
HELDOUT_FONTS="Bangwool UnPilgia NanumBarunpenR UnDinaruLight BMHANNAAir NanumSquareRoundL batang NanumGothicEcoR"
PHOTO_IMAGES=${PHOTO_IMAGES:-60000}
PRINT_IMAGES=${PRINT_IMAGES:-16000}
KWORDS_IMAGES=${KWORDS_IMAGES:-40000}
COVER_IMAGES=${COVER_IMAGES:-0}
SEED=${SEED:-21}                      # photo crops draw with SEED, printed ones SEED+1, Korean words SEED+2, coverage SEED+3
DRAW=${DRAW:-}                        # suffix of this draw's folders (photo$DRAW, print$DRAW, kwords$DRAW, cover$DRAW)
MINUTES=${MINUTES:-100}
LR=${LR:-0.0005}
BATCH=${BATCH:-64}
RATIO=${RATIO:-0.5-0.25-0.25}         # shares of each batch, in the order of SELECT
SELECT=${SELECT:-photo-print-kwords}  # the sources trained on (LMDB folders under WORK/lmdb/train, prefixes)
EXP=${EXP:-kocrnn-photo}
STEPS=${STEPS:-data train}
TRAIN_FLAGS=${TRAIN_FLAGS:-}          # more train.py flags (word-split), e.g. "--FT --imgW 192"
RESUME=${RESUME:-pretrained_models/kocrnn-train-state.pth}
WORKERS=$(nproc)

if [[ " $STEPS " == *" data "* ]]; then
  for spec in "photo photo signs $PHOTO_IMAGES $SEED" "print print signs $PRINT_IMAGES $((SEED + 1))" \
              "kwords print words $KWORDS_IMAGES $((SEED + 2))" "cover photo coverage $COVER_IMAGES $((SEED + 3))"; do
    set -- $spec
    (( $4 > 0 )) || continue
    dir=$WORK/aihub/$1$DRAW
    $PY synth_aihub.py --data_type font --style "$2" --text "$3" --count "$4" --seed "$5" --words train \
        --exclude_fonts $HELDOUT_FONTS --output "$dir" --workers "$WORKERS" --quiet
    $PY aihub_dataset.py --images "$dir/images" --labels "$dir/printed_data_info.json" --output "$dir" \
        --split 0.98 0.02 0 --quiet
    $PY get_images.py --images "$dir/images" --dataset_dir "$dir" --link --quiet
    for split in train validation; do
      $PY create_lmdb_dataset.py --inputPath "$dir" --gtFile "$dir/gt_$split.txt" \
          --outputPath "$WORK/lmdb/$split/$1$DRAW" --quiet
    done
  done
fi

if [[ " $STEPS " == *" train "* ]]; then
  # the run's own stage flags come from the checkpoint; --exp_name gives the continuation its own folder
  EXP_ARGS=(--exp_name "$EXP"); [[ "$RESUME" == saved_models/* && " $TRAIN_FLAGS " != *" --FT "* ]] && EXP_ARGS=()
  read -r -a EXTRA_ARGS <<< "$TRAIN_FLAGS"
  $PY train.py --train_data "$WORK/lmdb/train" --valid_data "$WORK/lmdb/validation" --select_data "$SELECT" \
      --batch_ratio "$RATIO" --saved_model "$RESUME" --batch_size "$BATCH" --adam --lr "$LR" --scheduler cosine \
      --schedule_by time --time_limit "$MINUTES" --warmup 100 --num_iter 1000000 --valInterval 250 \
      --saveInterval 100 --workers 1 "${EXP_ARGS[@]}" "${EXTRA_ARGS[@]}" --quiet
fi
