#!/usr/bin/env bash
# The rendered held-out sets the model card reports, as labelled folders for bench/bench_accuracy.py
# (FOLDER/images + FOLDER/labels.txt): 2,500 crops each, in the 8 fonts and of the 10 % of words that
# training never uses (--exclude_fonts / --words train in every training script).
#
#   bench/make_heldout.sh OUT_DIR
#   python3 bench/bench_accuracy.py OUT_DIR/heldout OUT_DIR/heldout_words ../shared/real_dev --models ...
#
# - OUT_DIR/heldout: the held-out test every model card figure since the first shipped model was measured
#   on, made by the generator of commit 549d8a2 (Korean words and phrases, syllable strings, a few
#   numbers, hours and brand names), taken from git history so the set stays the same while the generator
#   changes. Needs the repository's history (a full clone).
# - OUT_DIR/heldout_words: the same fonts and words through today's `--style print --text words` mix,
#   which adds prices, phones, units and punctuation in the proportions the current training scripts use.
# Writes only under OUT_DIR (the old generator is unpacked into OUT_DIR/.generator and removed after).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$PWD/.venv/bin/python}
OUT=${1:?usage: bench/make_heldout.sh OUT_DIR}
HELDOUT_FONTS="Bangwool UnPilgia NanumBarunpenR UnDinaruLight BMHANNAAir NanumSquareRoundL batang NanumGothicEcoR"
FIRST_SET_COMMIT=549d8a2
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# generate SET_NAME GENERATOR_DIR SYNTH_FLAGS...: synth_aihub.py -> aihub_dataset.py -> get_images.py, then
# the test crops and their labels as a bench folder
generate() {
  local name=$1 generator=$2 work=$OUT/.work_$1
  shift 2
  (cd "$generator" && $PY synth_aihub.py --data_type font --count 2500 --seed 3 --words heldout \
      --fonts $HELDOUT_FONTS --output "$work" --workers "$(nproc)" --quiet "$@")
  $PY aihub_dataset.py --images "$work/images" --labels "$work/printed_data_info.json" --output "$work" \
      --split 0 0 1 --quiet
  $PY get_images.py --images "$work/images" --dataset_dir "$work" --quiet
  rm -rf "$OUT/$name"
  mkdir -p "$OUT/$name"
  mv "$work/test" "$OUT/$name/images"
  sed 's#^test/##' "$work/gt_test.txt" > "$OUT/$name/labels.txt"
  rm -rf "$work"
  echo "$OUT/$name: $(wc -l < "$OUT/$name/labels.txt") labelled crops"
}

if ! git cat-file -e "$FIRST_SET_COMMIT^{commit}" 2>/dev/null; then
  echo "error: commit $FIRST_SET_COMMIT is not in this clone's history (git fetch --unshallow)" >&2
  exit 2
fi
rm -rf "$OUT/.generator"
mkdir -p "$OUT/.generator"
git archive "$FIRST_SET_COMMIT" -- '*.py' synth korean_charset.txt | tar -x -C "$OUT/.generator"
generate heldout "$OUT/.generator"
rm -rf "$OUT/.generator"
generate heldout_words "$PWD" --style print --text words
