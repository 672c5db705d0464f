#!/usr/bin/env bash
# The whole chain on a small synthetic AI Hub set, in a few minutes on a 2-core CPU (`make quickstart`):
#   synth_aihub.py -> aihub_dataset.py -> get_images.py -> create_lmdb_dataset.py
#   -> train.py (fine-tunes the shipped model) -> test.py -> demo.py (test_log.txt + HTML report)
#   -> read_photos.py (a few of the synthetic photos read whole: label JSON per photo + HTML report)
# Usage: scripts/quickstart.sh [WORK_DIR]   (default kor_dataset/quickstart; ITERATIONS=300 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=${1:-kor_dataset/quickstart}
ITERATIONS=${ITERATIONS:-300}
DATA=$WORK/aihub_data/signboard
RELEASE="$DATA/030.야외 실제 촬영 한글 이미지/01.데이터/1.Training"  # the release's own folders
IMAGES="$RELEASE/원천데이터_230216_add"
LMDB=$WORK/data_lmdb
step() { printf '\n=== %s  (%d s)\n' "$1" "$SECONDS"; }

step "0. synthetic AI Hub signboard photos in the release's layout (one label JSON per photo)"
$PY synth_aihub.py --layout release-new --count 300 --seed 7 --output "$DATA" --workers 2

step "1-1. aihub_dataset.py: label JSON -> gt_train / gt_validation / gt_test"
$PY aihub_dataset.py --images "$IMAGES" --labels "$RELEASE/라벨링데이터_230216_add" --output "$DATA" --split 0.8 0.1 0.1

step "1-2. get_images.py: bbox crops into train/ validation/ test/"
$PY get_images.py --images "$IMAGES" --dataset_dir "$DATA"

step "2. create_lmdb_dataset.py"
for split in train validation test; do
  $PY create_lmdb_dataset.py --inputPath "$DATA" --gtFile "$DATA/gt_$split.txt" --outputPath "$LMDB/$split"
done

step "3. train.py: fine-tune the shipped Korean model on the new crops ($ITERATIONS iterations)"
RUN=saved_models/quickstart-$(date +%Y%m%d-%H%M%S)
$PY train.py --train_data "$LMDB/train" --valid_data "$LMDB/validation" \
    --saved_model pretrained_models/kocrnn.pth --FT --adam --lr 0.0001 --scheduler cosine --warmup 30 \
    --batch_size 32 --num_iter "$ITERATIONS" --valInterval 100 --saveInterval 100 --exp_name "$(basename "$RUN")"

step "4. test.py on the held-out test split"
$PY test.py --eval_data "$LMDB/test" --saved_model "$RUN/best_accuracy.pth"

step "5. demo.py on the test crops: test_log.txt and an HTML report"
$PY demo.py --image_folder "$DATA/test" --label_test "$DATA/gt_test.txt" --saved_model "$RUN/best_accuracy.pth" \
    --log_filename "$RUN/test_log.txt" --html "$RUN/report.html"

step "6. read_photos.py: 5 photos of the test split read whole (text found, then read)"
mkdir -p "$WORK/photos"
cut -f2 "$DATA/sources_test.tsv" | sort -u | head -5 | while read -r photo; do
  cp "$IMAGES/$photo" "$WORK/photos/"
done
$PY read_photos.py --image_folder "$WORK/photos" --output "$WORK/photos_read" --saved_model "$RUN/best_accuracy.pth" \
    --overwrite

step "done"
cat <<EOF
model        $RUN/best_accuracy.pth   (resume: --saved_model $RUN/last.pth)
curves       $RUN/curves.png
train log    $RUN/log_train.txt
test         result/$(basename "$RUN")/log_evaluation.txt
demo log     $RUN/test_log.txt
HTML report  $RUN/report.html
photos read  $WORK/photos_read/labels/*.json  (AI Hub format), $WORK/photos_read/report.html
data         $DATA  (LMDB: $LMDB)
EOF
