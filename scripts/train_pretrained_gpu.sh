#!/usr/bin/env bash
# The GPU run behind pretrained_models/kocrnn.pth: the numbered steps of scripts/train_pretrained.sh
# (generate -> aihub_dataset.py -> get_images.py -> create_lmdb_dataset.py -> train.py), with the data
# made in parallel shards, one chain per core, and training on one CUDA device with --amp.
# The shipped model, on one H200 (16 cores; README model card, logs in docs/pretrained/):
#   MINUTES=2.6 (defaults otherwise), then train.py resumed from last.pth for 3.3 more minutes;
#   then on a second data draw: STEPS=data SEED=5000, STEPS=train RESUME=<that last.pth> MINUTES=4.95,
#   and RESUME=<its last.pth> MINUTES=3.2 (each a fresh cosine from lr 1e-3).
# Since then the shipped model was continued on photo-like crops on a CPU (scripts/train_photo_cpu.sh);
# this script now makes those too (PHOTO_IMAGES, --style photo), beside printed words and street photos,
# and the coverage mix (COVER_IMAGES, --style photo --text coverage: every syllable about equally often,
# lone characters, units, masked numbers, label phrases). The fonts are the machine's own, or FONT_DIR:
# pack them where the npm faces are installed (`make npm-fonts`), the device machine has no network.
#
#   scripts/train_pretrained_gpu.sh WORK_DIR [FONT_DIR [WORD_LIST]]
#
# FONT_DIR / WORD_LIST are for a machine without the Debian fonts or hunspell-ko + wordfreq: make them
# where those are installed with `scripts/pack_fonts.py FONT_DIR --exclude <held-out fonts>` and
# `python3 -m synth.words WORD_LIST`. Sizes and time come from the environment (defaults below).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=${1:?usage: scripts/train_pretrained_gpu.sh WORK_DIR [FONT_DIR [WORD_LIST]]}
FONT_ARGS=(); [ -n "${2:-}" ] && FONT_ARGS=(--font_dir "$2")
WORD_ARGS=(); [ -n "${3:-}" ] && WORD_ARGS=(--word_list "$3")
HELDOUT_FONTS="Bangwool UnPilgia NanumBarunpenR UnDinaruLight BMHANNAAir NanumSquareRoundL batang NanumGothicEcoR"
SHARDS=${SHARDS:-$(nproc)}
FONT_IMAGES=${FONT_IMAGES:-80000}     # clean printed word crops (--style print), all shards together
PHOTO_IMAGES=${PHOTO_IMAGES:-200000}  # word crops as cut from photographs (--style photo)
COVER_IMAGES=${COVER_IMAGES:-80000}   # the coverage mix in photo style
SIGN_PHOTOS=${SIGN_PHOTOS:-10000}     # street photos (~4 plates each)
NUM_ITER=${NUM_ITER:-100000}         # an upper bound: the cosine spans $MINUTES of training
MINUTES=${MINUTES:-5}
BATCH=${BATCH:-256}
EXP=${EXP:-kocrnn-gpu}
AMP=${AMP---amp}                      # AMP='--amp off' trains in fp32
STEPS=${STEPS:-data train}            # run one phase alone with STEPS=data or STEPS=train
SEED=${SEED:-1000}                    # shard k draws with seed SEED+k (fonts), SEED+1000+k (street photos)
LR=${LR:-0.001}                       # Adam's peak learning rate
RESUME=${RESUME:-}                    # a last.pth / train state to continue (iteration, Adam moments)

SIGN_SHARDS=$(( SHARDS / 8 > 0 ? SHARDS / 8 : 1 ))   # an eighth of the shards make street photos,
FONT_SHARDS=$(( SHARDS / 4 > 0 ? SHARDS / 4 : 1 ))   # a quarter printed words, the rest photo-like words
COVER_SHARDS=$(( SHARDS / 8 > 0 ? SHARDS / 8 : 1 ))  # an eighth the coverage mix,
PHOTO_SHARDS=$(( SHARDS - SIGN_SHARDS - FONT_SHARDS - COVER_SHARDS > 0 ? SHARDS - SIGN_SHARDS - FONT_SHARDS - COVER_SHARDS : 1 ))

shard_chain() {  # one shard through steps 0-3: $1 = font|photo|cover|signboard, $2 = shard number, $3 = count, $4 = seed
  local kind=$1 k=$2 dir=$WORK/aihub/$1-$2 labels=$WORK/aihub/$1-$2/printed_data_info.json link=--link
  local data_type=font style=print text=signs
  [ "$kind" = photo ] && style=photo
  [ "$kind" = cover ] && style=photo text=coverage
  [ "$kind" = font ] && (( k % 2 == 0 )) && text=words   # half the printed shards Korean words and phrases
  [ "$kind" = signboard ] && labels=$dir/labels link= data_type=signboard
  $PY synth_aihub.py --data_type "$data_type" --style "$style" --text "$text" --count "$3" --seed "$4" --words train \
      --exclude_fonts $HELDOUT_FONTS \
      "${FONT_ARGS[@]}" "${WORD_ARGS[@]}" --output "$dir" --quiet
  $PY aihub_dataset.py --images "$dir/images" --labels "$labels" --output "$dir" --split 0.99 0.01 0 --quiet
  $PY get_images.py --images "$dir/images" --dataset_dir "$dir" --quiet $link
  for split in train validation; do
    $PY create_lmdb_dataset.py --inputPath "$dir" --gtFile "$dir/gt_$split.txt" \
        --outputPath "$WORK/lmdb/$split/$kind/shard$k" --quiet
  done
}

start=$(date +%s)
if [[ " $STEPS " == *" data "* ]]; then
# Fonts are render-checked once here, so the shards find the check cached.
$PY synth_aihub.py --data_type font --count 1 --output "$WORK/aihub/fontcheck" "${FONT_ARGS[@]}" \
    "${WORD_ARGS[@]}" --quiet
mkdir -p "$WORK/logs"
for k in $(seq 1 "$FONT_SHARDS"); do
  shard_chain font "$k" $((FONT_IMAGES / FONT_SHARDS)) $((SEED + k)) > "$WORK/logs/font-$k.log" 2>&1 &
done
for k in $(seq 1 "$PHOTO_SHARDS"); do
  shard_chain photo "$k" $((PHOTO_IMAGES / PHOTO_SHARDS)) $((SEED + 2000 + k)) > "$WORK/logs/photo-$k.log" 2>&1 &
done
for k in $(seq 1 "$COVER_SHARDS"); do
  shard_chain cover "$k" $((COVER_IMAGES / COVER_SHARDS)) $((SEED + 3000 + k)) > "$WORK/logs/cover-$k.log" 2>&1 &
done
for k in $(seq 1 "$SIGN_SHARDS"); do
  shard_chain signboard "$k" $((SIGN_PHOTOS / SIGN_SHARDS)) $((SEED + 1000 + k)) > "$WORK/logs/signboard-$k.log" 2>&1 &
done
for job in $(jobs -p); do wait "$job" || { echo "a data shard failed:"; tail -n 3 "$WORK"/logs/*.log; exit 1; }; done
echo "data: $(($(date +%s) - start)) s"
fi

if [[ " $STEPS " == *" train "* ]]; then
RESUME_ARGS=(); [ -n "$RESUME" ] && RESUME_ARGS=(--saved_model "$RESUME")

$PY train.py --train_data "$WORK/lmdb/train" --valid_data "$WORK/lmdb/validation" --select_data font-photo-signboard-cover \
    --batch_ratio 0.25-0.45-0.1-0.2 --Transformation None --FeatureExtraction VGG --SequenceModeling BiLSTM \
    --Prediction CTC --output_channel 256 --hidden_size 256 --imgW 128 --PAD --batch_size "$BATCH" --adam \
    --lr "$LR" --scheduler cosine --schedule_by time --warmup 300 --num_iter "$NUM_ITER" --valInterval 500 \
    --saveInterval 500 --time_limit "$MINUTES" --workers "$(nproc)" $AMP --exp_name "$EXP" "${RESUME_ARGS[@]}" --quiet
echo "train: $(($(date +%s) - start)) s"
# weights + charset + options to ship (fp16), and the state to resume from (Adam moments as bf16)
# a resumed run ships its last (annealed) weights: the best it carries was measured on the old validation set
SHIP=best_accuracy; [ -n "$RESUME" ] && SHIP=last
$PY scripts/export_pretrained.py "saved_models/$EXP/$SHIP.pth" pretrained_models/kocrnn.pth --half
$PY scripts/export_pretrained.py "saved_models/$EXP/last.pth" pretrained_models/kocrnn-train-state.pth --train_state
fi
