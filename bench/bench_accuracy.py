"""Accuracy as a user measures it: demo.py on folders of labelled crops, models side by side.

    python3 bench/bench_accuracy.py ../shared/real_dev                       # the shipped model
    python3 bench/bench_accuracy.py FOLDER... --models old.pth new.pth --tesseract
    python3 bench/bench_accuracy.py FOLDER... --decodings greedy beam:8 beam:8:default:2

A FOLDER holds its images (in FOLDER/images/ or FOLDER itself) and a `labels.txt` (or `gt.txt`) of
`name label` / `name<TAB>label` lines. For each folder and model it runs demo.py as a user would, reads
the test_log.txt it writes, and prints word accuracy, mean CER and images/s, and accuracy by kind of
text (Hangul only / Latin-digits only / mixed). --tesseract adds Debian's Tesseract 5
(`-l kor+eng --psm 7`, whitespace runs collapsed) as a column; --tessdata DIR another, with the models of
DIR (tessdata_best from scripts/install_tessdata_best.py). --decodings runs each model with each
decoding (`model`: the one the model file names, the default; `greedy`, `beam:N`,
`beam:N:LEXICON:WEIGHT`, LEXICON a file or `default`). Prints its
figures; asserts nothing.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from precision import cpu_flags  # noqa: E402
from gtfile import parse_gt_line, read_gt_lines  # noqa: E402
from metrics import TEXT_KINDS, score_predictions, scores_by_kind  # noqa: E402
from charset import nfc  # noqa: E402
from decoding import parse_decoding_spec, spec_flags  # noqa: E402
from utils import UserError  # noqa: E402

LABEL_FILES = ('labels.txt', 'gt.txt')


def labelled_folder(folder):
    """(image folder, label file) of a benchmark folder."""
    folder = Path(folder)
    labels = next((folder / name for name in LABEL_FILES if (folder / name).is_file()), None)
    if labels is None:
        sys.exit(f'error: {folder} has no {" or ".join(LABEL_FILES)}')
    images = folder / 'images' if (folder / 'images').is_dir() else folder
    return images, labels


def read_labels(label_file):
    labels = {}
    for _, line in read_gt_lines(label_file):
        if line is not None:
            name, label = parse_gt_line(line)
            labels[name] = label
    return labels


def decoding_flags(spec):
    """model | greedy | beam:N | beam:N:LEXICON:WEIGHT -> demo.py flags (`model`: none, the model's own)."""
    if spec == 'model':
        return []
    try:
        return spec_flags(parse_decoding_spec(spec))
    except UserError as error:
        sys.exit(f'error: --decodings: {error}')


def run_demo(model, images, label_file, work, decoding='model'):
    """demo.py on one folder: ({name: predicted}, images/s over the whole process)."""
    log = Path(work) / 'test_log.txt'
    command = [sys.executable, str(REPO / 'demo.py'), '--image_folder', str(images), '--label_test',
               str(label_file), '--log_filename', str(log), '--quiet', *decoding_flags(decoding)]
    if model.endswith('.onnx'):
        command += ['--onnx', model]
    elif model != 'shipped':
        command += ['--saved_model', model]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=work)
    seconds = time.perf_counter() - start
    rows = {}
    for line in log.read_text(encoding='utf-8').splitlines()[1:]:
        cells = [cell.strip() for cell in line.split('\t')]
        if len(cells) == 5:
            rows[cells[0]] = cells[2]
    return rows, len(rows) / seconds


def run_tesseract(images, names, tessdata=None):
    """Tesseract on each crop: Debian's models, or those of folder `tessdata` (e.g. tessdata_best)."""
    start = time.perf_counter()
    rows = {}
    models = ['--tessdata-dir', str(tessdata)] if tessdata else []
    for name in names:
        result = subprocess.run(['tesseract', *models, str(images / name), 'stdout', '-l', 'kor+eng', '--psm', '7'],
                                capture_output=True, text=True)
        rows[name] = re.sub(r'\s+', ' ', nfc(result.stdout)).strip()
    return rows, len(names) / (time.perf_counter() - start)


def figures(predictions, labels):
    names = [name for name in labels if name in predictions]
    preds, reals = [predictions[n] for n in names], [labels[n] for n in names]
    return score_predictions(preds, reals), scores_by_kind(preds, reals), len(labels) - len(names)


def print_table(folder, columns):
    """columns: [(name, Scores, {kind: Scores}, images/s, missing)]."""
    width = 2 + max(20, *(len(name) for name, *_ in columns))  # two spaces keep long names apart
    print(f'\n{folder}')
    print(f'{"":26}' + ''.join(f'{name:>{width}}' for name, *_ in columns))
    print(f'{"word accuracy %":26}' + ''.join(f'{s.accuracy:>{width}.2f}' for _, s, *_ in columns))
    print(f'{"mean CER":26}' + ''.join(f'{s.cer:>{width}.3f}' for _, s, *_ in columns))
    print(f'{"mean JER (jamo)":26}' + ''.join(f'{s.jer:>{width}.3f}' for _, s, *_ in columns))
    for kind in TEXT_KINDS:
        cells = []
        for _, _, kinds, *_ in columns:
            k = kinds.get(kind)
            cells.append(f'{k.accuracy * k.count / 100:.0f}/{k.count} ({k.accuracy:.1f} %)' if k else '-')
        print(f'{"  " + kind:26}' + ''.join(f'{c:>{width}}' for c in cells))
    print(f'{"images/s (whole process)":26}' + ''.join(f'{rate:>{width}.1f}' for *_, rate, _ in columns))
    if any(missing for *_, missing in columns):
        print(f'{"not in the log":26}' + ''.join(f'{m:>{width}}' for *_, m in columns))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folders', nargs='+', help='folders of labelled crops')
    parser.add_argument('--models', nargs='+', default=['shipped'],
                        help='checkpoints (.pth) or ONNX files to compare; `shipped` is the default model')
    parser.add_argument('--decodings', nargs='+', default=['model'],
                        help='model (the one the model file names; the default), greedy, beam:N or '
                             'beam:N:LEXICON:WEIGHT (each model is run with each)')
    parser.add_argument('--tesseract', action='store_true', help="add Debian's Tesseract 5 kor+eng --psm 7")
    parser.add_argument('--tessdata', default=None,
                        help='add Tesseract 5 kor+eng --psm 7 with the models of this folder (tessdata_best: '
                             'scripts/install_tessdata_best.py)')
    opt = parser.parse_args()
    if (opt.tesseract or opt.tessdata) and not shutil.which('tesseract'):
        sys.exit('error: --tesseract needs `apt-get install tesseract-ocr tesseract-ocr-kor`')
    if opt.tessdata and not all((Path(opt.tessdata) / f'{lang}.traineddata').is_file() for lang in ('kor', 'eng')):
        sys.exit(f'error: --tessdata {opt.tessdata} holds no kor.traineddata and eng.traineddata '
                 '(scripts/install_tessdata_best.py installs them)')
    print(f'CPU: {cpu_flags()}; models: {", ".join(opt.models)}')
    for folder in opt.folders:
        images, label_file = labelled_folder(folder)
        labels = read_labels(label_file)
        columns = []
        for model in opt.models:
            for decoding in opt.decodings:
                with tempfile.TemporaryDirectory() as work:
                    predictions, rate = run_demo(str(Path(model).resolve()) if model != 'shipped' else model,
                                                 images.resolve(), label_file.resolve(), work, decoding)
                scores, kinds, missing = figures(predictions, labels)
                name = Path(model).name + ('' if decoding == 'model' else f' {decoding}')
                columns.append((name, scores, kinds, rate, missing))
        for name, tessdata in (('tesseract kor+eng', None), ('tesseract best kor+eng', opt.tessdata)):
            if (opt.tesseract and tessdata is None) or tessdata:
                predictions, rate = run_tesseract(images, list(labels), tessdata)
                scores, kinds, missing = figures(predictions, labels)
                columns.append((name, scores, kinds, rate, missing))
        print_table(folder, columns)


if __name__ == '__main__':
    main()
