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
from gtfile import GtLineError, parse_gt_line, read_gt_lines
from metrics import format_by_kind, score_predictions, scores_by_kind
from options import add_model_arguments
from precision import add_amp_arguments
from recognizer import DEFAULT_MODEL, Recognizer
from report import ReportRow, write_report
from utils import UserError, display_width, pad, run_main, setup_logging


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
    """An image's label from the gt file: by its exact path relative to --image_folder (NFC); failing
    that, by the same path in other letter case, or by its file name alone when the gt file names it in
    another folder, each only when exactly one gt line and exactly one image fit (said in the log).
    A label is never taken from an image with another extension or in another folder of the same tree."""

    def __init__(self, gt_file, image_names, log):
        self.exact, bad = {}, 0
        for number, line in read_gt_lines(gt_file):
            try:
                if line is None:
                    raise GtLineError('not UTF-8')
                name, label = parse_gt_line(line)
            except GtLineError as error:
                bad += 1
                log.warning('%s line %d skipped: %s', gt_file, number, error)
                continue
            self.exact.setdefault(nfc(Path(name).as_posix().removeprefix('./')), label)
        if not self.exact:
            raise UserError(f'{gt_file} holds no usable `name<TAB>label` line')
        self.by_folded_path = self._unique(self.exact, lambda name: name.casefold())
        self.by_folded_name = self._unique(self.exact, lambda name: Path(name).name.casefold())
        images = [nfc(name) for name in image_names]
        self.image_paths = Counter(name.casefold() for name in images)
        self.image_names = Counter(Path(name).name.casefold() for name in images)
        self.by_name_only = 0

    @staticmethod
    def _unique(labels, key):
        """{key(name): label} for keys that only one gt name has."""
        counts = Counter(key(name) for name in labels)
        return {key(name): label for name, label in labels.items() if counts[key(name)] == 1}

    def lookup(self, relative_path):
        name = nfc(Path(relative_path).as_posix())
        if name in self.exact:
            return self.exact[name]
        folded = name.casefold()
        if folded in self.by_folded_path and self.image_paths[folded] == 1:
            return self.by_folded_path[folded]
        file_name = Path(folded).name
        if file_name in self.by_folded_name and self.image_names[file_name] == 1:
            self.by_name_only += 1
            return self.by_folded_name[file_name]
        return None


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
    widths = [max(display_width(row[i]) for row in [header] + table) for i in range(len(header))]
    return ['\t'.join(pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in [header] + table]


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    reader = Recognizer.load(opt.onnx or opt.saved_model, options=opt, decoding=decoding_from_args(opt),
                             amp=opt.amp, device=device, threads=opt.threads)
    config = reader.config
    dataset = RawDataset(opt.image_folder, rgb=reader.rgb)
    if len(dataset) == 0:
        raise UserError(f'no image in {opt.image_folder}')
    image_names = [path.relative_to(opt.image_folder).as_posix() for path in dataset.paths]
    labels = LabelIndex(opt.label_test, image_names, log) if opt.label_test else None
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
    if labels and labels.by_name_only:
        log.info('%d image(s) matched to %s by file name alone (the gt paths name other folders; each name is '
                 'unique on both sides)', labels.by_name_only, opt.label_test)
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
