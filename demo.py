"""Step 6: recognise every image in a folder and write test_log.txt.

    python3 demo.py --image_folder demo_image/ --label_test demo_image/labels.txt

Without --saved_model the shipped Korean model (pretrained_models/kocrnn.pth) is used. With
--label_test (lines `name<TAB>label` or `name label`), each row gets the real text and its CER, and a
closing line the totals. --html report.html also writes a self-contained page of every image with its
real text and prediction, the differing characters marked, worst first. --onnx model.onnx (from
export_onnx.py) recognises with ONNX Runtime instead of PyTorch and writes the same log.
"""
import argparse
import time
from collections import Counter
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from charset import nfc
from cli import ArgumentParser, non_negative_int, output_file, positive_int
from dataset import RawDataset, default_workers
from decoding import add_decoding_arguments, decoding_from_args
from gtfile import GtLineError, parse_gt_line, read_gt_lines, resolves_inside
from metrics import format_by_kind, score_predictions, scores_by_kind
from options import add_model_arguments
from precision import add_amp_arguments
from recognizer import DEFAULT_MODEL, Recognizer
from report import ReportRow, is_demo_report, write_report
from safe_files import check_output_file
from utils import UserError, display_width, log_cell, pad, run_main, setup_logging


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--image_folder', required=True, help='folder of images to recognise')
    parser.add_argument('--saved_model', default=str(DEFAULT_MODEL), help='checkpoint (default: the shipped model)')
    parser.add_argument('--label_test', default=None, help='gt file naming the true text of the images')
    parser.add_argument('--log_filename', type=output_file, default='test_log.txt', help='where the per-image log is written')
    parser.add_argument('--html', type=output_file, default=None, help='also write this self-contained HTML report (images embedded)')
    parser.add_argument('--onnx', default=None, help='recognise with this export_onnx.py model in ONNX Runtime')
    parser.add_argument('--threads', type=positive_int, default=None, help='ONNX Runtime threads (default: all cores)')
    add_decoding_arguments(parser)
    add_amp_arguments(parser)  # the PyTorch path only; ONNX Runtime runs the exported fp32 graph
    parser.add_argument('--batch_size', type=positive_int, default=192)
    parser.add_argument('--workers', type=non_negative_int, default=default_workers())
    parser.add_argument('--quiet', action='store_true')
    add_model_arguments(parser)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- labels

class LabelIndex:
    """Each image's label from the gt file. A gt line names an image by its path relative to the gt file's
    own folder (the seed's gt_test.txt beside test/: `test/x.jpg`) or to --image_folder (`x.jpg`), NFC;
    failing an exact match, by that path in other letter case (the seed's `.JPG` lines), only when
    exactly one gt line and one image fit. Never by file name alone: sub2/x.jpg never takes sub1/x.jpg's
    label. A line naming two images, or an image named by two lines of different labels, labels none."""

    def __init__(self, gt_file, image_folder, image_names, log):
        exact, bad = {}, 0
        for number, line in read_gt_lines(gt_file):
            try:
                if line is None:
                    raise GtLineError('not UTF-8')
                name, label = parse_gt_line(line)
            except GtLineError as error:
                bad += 1
                log.warning('%s line %d skipped: %s', gt_file, number, error)
                continue
            exact.setdefault(nfc(Path(name).as_posix().removeprefix('./')), label)
        if not exact:
            raise UserError(f'{gt_file} holds no usable `name<TAB>label` line')
        folder, gt_root = Path(image_folder).resolve(), Path(gt_file).resolve().parent
        names_of = {}  # image -> the gt names that would name it
        for image in image_names:
            names = {nfc(image)}
            if gt_root in (folder / image).parents:
                names.add(nfc((folder / image).relative_to(gt_root).as_posix()))
            names_of[image] = names
        self.labels, self.ambiguous, self.by_case = {}, 0, 0
        for fold in (False, True):
            key = str.casefold if fold else str
            gt_names = Counter(key(name) for name in exact)
            lines = {key(name): label for name, label in exact.items() if gt_names[key(name)] == 1}
            claimed = Counter(key(name) for names in names_of.values() for name in names)
            for image, names in names_of.items():
                if image in self.labels:
                    continue
                found = {lines[key(name)] for name in names if key(name) in lines}
                if any(claimed[key(name)] > 1 for name in names if key(name) in lines) or len(found) > 1:
                    self.ambiguous += not fold
                    continue
                if found:
                    self.labels[image] = found.pop()
                    self.by_case += fold

    def lookup(self, relative_path):
        return self.labels.get(Path(relative_path).as_posix())


# ---------------------------------------------------------------- the log

def format_log(rows, has_labels):
    """rows: ReportRow (real is None when unlabelled). Tab-separated, columns padded by display width."""
    header = ['image_name', 'real_text', 'predicted_text', 'confidence_score', 'CER'] if has_labels else \
        ['image_name', 'predicted_text', 'confidence_score']
    table = []
    for row in rows:
        if has_labels:
            cer = '-' if row.cer is None else f'{row.cer:.4f}'
            table.append([row.name, '-' if row.real is None else row.real, row.pred, f'{row.confidence:.4f}', cer])
        else:
            table.append([row.name, row.pred, f'{row.confidence:.4f}'])
    table = [[log_cell(cell) for cell in row] for row in table]  # escaped and cut: the HTML report shows all
    widths = [max(display_width(row[i]) for row in [header] + table) for i in range(len(header))]
    return ['\t'.join(pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in [header] + table]


def is_demo_log(path):
    """True when `path` is a test_log.txt demo.py wrote (so it may be replaced)."""
    with open(path, 'rb') as handle:
        return handle.read(len(b'image_name')) == b'image_name'


def check_outputs(opt, image_paths):
    """--log_filename and --html never replace an input (the gt file, a model, an image, each other) nor a
    file demo.py did not write."""
    inputs = [opt.label_test, opt.saved_model, opt.onnx, opt.character_file,
              opt.lexicon if opt.lexicon != 'default' else None, *image_paths]
    check_output_file(opt.log_filename, inputs, '--log_filename', 'test_log.txt', is_own=is_demo_log)
    if opt.html:
        check_output_file(opt.html, inputs + [opt.log_filename], '--html', 'demo.py report', is_own=is_demo_report)


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    reader = Recognizer.load(opt.onnx or opt.saved_model, options=opt, decoding=decoding_from_args(opt),
                             amp=opt.amp, device=device, threads=opt.threads)
    config = reader.config
    dataset = RawDataset(opt.image_folder, rgb=reader.rgb)
    inside = [path for path in dataset.paths if resolves_inside(opt.image_folder, path.relative_to(opt.image_folder))]
    if len(inside) < len(dataset.paths):  # a link to a photo elsewhere: never read, never embedded in --html
        log.warning('skipped %d: link(s) to files outside %s', len(dataset.paths) - len(inside), opt.image_folder)
        dataset.paths = inside
    if len(dataset) == 0:
        raise UserError(f'no image in {opt.image_folder}')
    check_outputs(opt, dataset.paths)
    image_names = [path.relative_to(opt.image_folder).as_posix() for path in dataset.paths]
    labels = LabelIndex(opt.label_test, opt.image_folder, image_names, log) if opt.label_test else None
    loader = DataLoader(dataset, batch_size=opt.batch_size, shuffle=False, num_workers=opt.workers,
                        collate_fn=reader.collate())
    rows, start = [], time.perf_counter()
    for images, paths in tqdm(loader, desc='demo', unit='batch', disable=True if opt.quiet else None):
        if images is None:
            continue
        texts, confidences = reader.read_batch(images)
        rows += [(str(Path(path).relative_to(opt.image_folder)), text, confidence)
                 for path, text, confidence in zip(paths, texts, confidences)]
    seconds = time.perf_counter() - start
    unreadable = len(dataset) - len(rows)
    if unreadable:
        log.warning('skipped %d unreadable image(s)', unreadable)

    log_rows, scored_preds, scored_labels = [], [], []
    for name, pred, confidence in rows:
        real = labels.lookup(name) if labels else None
        if labels and real is None:
            log.warning('%s: no label in %s; written without real text', name, opt.label_test)
        if real is not None:
            scored_preds.append(pred)
            scored_labels.append(real)
        log_rows.append(ReportRow(name, real, pred, confidence))
    if labels and labels.by_case:
        log.info('%d image(s) matched to %s in other letter case (one line and one image each)', labels.by_case,
                 opt.label_test)
    if labels and labels.ambiguous:
        log.warning('%d image(s) left unlabelled: %s names them ambiguously (one line naming two images, or two '
                    'lines of different labels naming one)', labels.ambiguous, opt.label_test)
    lines = format_log(log_rows, labels is not None)
    totals = [('images', len(rows))] + ([('unreadable', unreadable)] if unreadable else [])
    if labels:
        scores = score_predictions(scored_preds, scored_labels)
        lines.append(f'total: {len(rows)} images, {scores.count} labelled, accuracy {scores.accuracy:.2f}%, '
                     f'mean CER {scores.cer:.4f}, mean JER {scores.jer:.4f}, norm_ED {scores.norm_ED:.4f}')
        by_kind = format_by_kind(scores_by_kind(scored_preds, scored_labels))
        totals += [('labelled', scores.count), ('accuracy', f'{scores.accuracy:.2f} %'),
                   ('mean CER', f'{scores.cer:.4f}'), ('mean JER (jamo)', f'{scores.jer:.4f}'),
                   ('norm_ED', f'{scores.norm_ED:.4f}'), ('by kind of text', by_kind)]
    Path(opt.log_filename).write_text('\n'.join(lines) + '\n', encoding='utf-8')
    if opt.html:
        write_report(log_rows, opt.image_folder, opt.html,
                     f'kocrnn: {opt.image_folder} ({Path(opt.onnx or opt.saved_model).name}, {config.name})',
                     totals + [('images/s', f'{len(rows) / max(seconds, 1e-9):.1f}')])
        log.info('HTML report written to %s', opt.html)
    for line in lines:
        log.info(line)
    if labels:
        log.info('by kind of text: %s', by_kind)
    log.info('%d images in %.2f s (%.1f images/s, %s, %s); log written to %s', len(rows), seconds,
             len(rows) / max(seconds, 1e-9), 'ONNX Runtime, fp32' if reader.is_onnx else reader.precision,
             reader.decoding, opt.log_filename)


if __name__ == '__main__':
    run_main(main)
