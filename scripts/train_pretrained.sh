#!/usr/bin/env bash
# The numbered chain at CPU scale, from nothing but kocrnn's own scripts and Debian/PyPI packages:
# generate -> aihub_dataset.py -> get_images.py -> create_lmdb_dataset.py -> train.py -> test.py -> export.
# Session 1's CPU model (14 % held-out after 80 CPU minutes) came from it; the shipped model now comes
# from scripts/train_pretrained_gpu.sh (the same steps in parallel shards, trained on one GPU).
# Usage: scripts/train_pretrained.sh [WORK_DIR]   (default /work/data; ~10 GB free space is plenty)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
WORK=${1:-/work/data}
# Fonts kept out of training: the held-out test set is rendered with them, and with held-out words.
HELDOUT_FONTS="Bangwool UnPilgia NanumBarunpenR UnDinaruLight BMHANNAAir NanumSquareRoundL batang NanumGothicEcoR"
MINUTES=${MINUTES:-110}

# 0. synthetic AI Hub-format data: word crops (font-image set) and street photos (signboard set)
$PY synth_aihub.py --data_type font --style print --text words --count 100000 --seed 1 --words train \
    --exclude_fonts $HELDOUT_FONTS --output $WORK/aihub/font --workers 2 --quiet
$PY synth_aihub.py --data_type font --style print --text words --count 100000 --seed 4 --words train \
    --exclude_fonts $HELDOUT_FONTS --output $WORK/aihub/font2 --workers 2 --quiet
$PY synth_aihub.py --data_type signboard --count 3000 --seed 2 --words train --exclude_fonts $HELDOUT_FONTS \
    --output $WORK/aihub/signboard --workers 2 --quiet
$PY synth_aihub.py --data_type font --style print --text words --count 2500 --seed 3 --words heldout \
    --fonts $HELDOUT_FONTS --output $WORK/aihub/heldout --workers 2 --quiet

# 1-2. gt files and images per split
$PY aihub_dataset.py --images $WORK/aihub/font/images --labels $WORK/aihub/font/printed_data_info.json \
    --output $WORK/aihub/font --split 0.97 0.03 0
$PY get_images.py --images $WORK/aihub/font/images --dataset_dir $WORK/aihub/font --link --quiet
$PY aihub_dataset.py --images $WORK/aihub/font2/images --labels $WORK/aihub/font2/printed_data_info.json \
    --output $WORK/aihub/font2 --split 0.97 0.03 0
$PY get_images.py --images $WORK/aihub/font2/images --dataset_dir $WORK/aihub/font2 --link --quiet
$PY aihub_dataset.py --images $WORK/aihub/signboard/images --labels $WORK/aihub/signboard/labels \
    --output $WORK/aihub/signboard --split 0.97 0.03 0
$PY get_images.py --images $WORK/aihub/signboard/images --dataset_dir $WORK/aihub/signboard --quiet
$PY aihub_dataset.py --images $WORK/aihub/heldout/images --labels $WORK/aihub/heldout/printed_data_info.json \
    --output $WORK/aihub/heldout --split 0 0 1
$PY get_images.py --images $WORK/aihub/heldout/images --dataset_dir $WORK/aihub/heldout --link --quiet

# 3. LMDB
for set in font font2 signboard; do
  $PY create_lmdb_dataset.py --inputPath $WORK/aihub/$set --gtFile $WORK/aihub/$set/gt_train.txt --outputPath $WORK/lmdb/train/$set
  $PY create_lmdb_dataset.py --inputPath $WORK/aihub/$set --gtFile $WORK/aihub/$set/gt_validation.txt --outputPath $WORK/lmdb/validation/$set
done
$PY create_lmdb_dataset.py --inputPath $WORK/aihub/heldout --gtFile $WORK/aihub/heldout/gt_test.txt --outputPath $WORK/lmdb/heldout_test

# 4. train: None-VGG-BiLSTM-CTC at 192/192, imgW 128 (see the model card in README.md for why).
#    Session 1 ran 1,500 iterations with --num_iter 8000, resumed with --num_iter 4800 (stopped at 2,316),
#    then with --num_iter 3100 --time_limit 17 (stopped at 2,740).
#    To continue from the committed state instead of starting over:
#      $PY train.py --train_data $WORK/lmdb/train --valid_data $WORK/lmdb/validation --select_data font-signboard \
#          --batch_ratio 0.8-0.2 --saved_model pretrained_models/kocrnn-train-state.pth --exp_name kocrnn-pretrained \
#          --num_iter 20000 --valInterval 1000 --saveInterval 250 --time_limit $MINUTES --workers 1 --quiet
$PY train.py --train_data $WORK/lmdb/train --valid_data $WORK/lmdb/validation --select_data font-signboard \
    --batch_ratio 0.8-0.2 --Transformation None --FeatureExtraction VGG --SequenceModeling BiLSTM --Prediction CTC \
    --output_channel 192 --hidden_size 192 --imgW 128 --PAD --batch_size 64 --adam --lr 0.001 --scheduler cosine \
    --warmup 300 --num_iter 4800 --valInterval 1000 --saveInterval 250 --time_limit $MINUTES --workers 1 \
    --exp_name kocrnn-pretrained --quiet

# 5. held-out test (fonts and words never seen in training)
$PY test.py --eval_data $WORK/lmdb/heldout_test --saved_model saved_models/kocrnn-pretrained/best_accuracy.pth --workers 1

# 6. ship weights + charset + options only
$PY scripts/export_pretrained.py saved_models/kocrnn-pretrained/best_accuracy.pth pretrained_models/kocrnn.pth --half
$PY scripts/export_pretrained.py saved_models/kocrnn-pretrained/last.pth pretrained_models/kocrnn-train-state.pth \
    --train_state   # to resume later
