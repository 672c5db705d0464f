"""Step 5: accuracy, normalised edit distance and CER of a trained model on LMDB sets.

    python3 test.py --eval_data data_lmdb/test --saved_model saved_models/<run>/best_accuracy.pth
    python3 test.py --eval_data data_lmdb/ --benchmark_all_eval --saved_model ...   # each LMDB below, then the total

Results are appended to result/<run>/log_evaluation.txt (<run>: the model file's folder); a file of that
name test.py did not write is kept and refused.
"""
import argparse
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from cli import ArgumentParser, non_negative_int, output_folder, positive_int
from dataset import LmdbDataset, default_workers, find_lmdb_folders
from decoding import add_decoding_arguments, decoding_from_args
from evaluate import validate
from metrics import format_by_kind, scores_by_kind
from options import add_model_arguments
from precision import add_amp_arguments
from recognizer import Recognizer
from safe_files import check_output_file, is_recorded, record_files
from utils import UserError, also_log_to, run_main, setup_logging

COMMAND = 'test.py'


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--eval_data', required=True, help='LMDB folder (or a folder of LMDB folders)')
    parser.add_argument('--benchmark_all_eval', action='store_true',
                        help='evaluate every LMDB under --eval_data separately, then report the total')
    parser.add_argument('--saved_model', required=True, help='checkpoint to evaluate')
    parser.add_argument('--batch_size', type=positive_int, default=192)
    parser.add_argument('--workers', type=non_negative_int, default=default_workers())
    parser.add_argument('--data_filtering_off', action='store_true')
    add_decoding_arguments(parser)
    add_amp_arguments(parser, default='off')  # a benchmark figure must not depend on the CPU it ran on
    parser.add_argument('--result_folder', type=output_folder, default='result', help='where result/<run>/ logs go')
    parser.add_argument('--quiet', action='store_true')
    add_model_arguments(parser)
    return parser.parse_args(argv)


def evaluate_folder(folder, reader, opt, device):
    dataset = LmdbDataset(folder, reader.characters, batch_max_length=reader.config.batch_max_length,
                          rgb=reader.rgb, data_filtering_off=opt.data_filtering_off)
    loader = DataLoader(dataset, batch_size=opt.batch_size, shuffle=False, num_workers=opt.workers,
                        collate_fn=reader.collate())
    result = validate(reader.network, reader.head, reader.head.criterion(device), loader, device, reader.precision,
                      desc=Path(folder).name, decoding=reader.decoding)
    return dataset, result


def evaluate_all(opt, reader, device, log):
    """Each folder's figures (and the total over several) into the log."""
    config = reader.config
    log.info('%s  %s (%s, %d classes; %s; %s)', time.strftime('%Y-%m-%d %H:%M:%S'), opt.saved_model,
             config.name, config.num_class, reader.precision, reader.decoding)
    folders = find_lmdb_folders(opt.eval_data) if opt.benchmark_all_eval else [Path(opt.eval_data)]
    totals = {'count': 0, 'correct': 0.0, 'norm_ED': 0.0, 'cer': 0.0, 'jer': 0.0}
    for folder in folders:
        dataset, result = evaluate_folder(folder, reader, opt, device)
        log.info(dataset.describe())
        count = len(result.labels)
        log.info('%s\taccuracy: %.3f\tnorm_ED: %.4f\tCER: %.4f\tJER: %.4f\t(%d samples, %.1f images/s)', folder,
                 result.accuracy, result.norm_ED, result.cer, result.jer, count, count / max(result.seconds, 1e-9))
        log.info('%s\tby kind of text: %s', folder, format_by_kind(scores_by_kind(result.preds, result.labels)))
        totals['jer'] += result.jer * count
        totals['count'] += count
        totals['correct'] += result.accuracy * count / 100
        totals['norm_ED'] += result.norm_ED * count
        totals['cer'] += result.cer * count
    if len(folders) > 1 and totals['count']:
        n = totals['count']
        log.info('total_accuracy: %.3f\ttotal_norm_ED: %.4f\ttotal_CER: %.4f\ttotal_JER: %.4f\t(%d samples)',
                 100 * totals['correct'] / n, totals['norm_ED'] / n, totals['cer'] / n, totals['jer'] / n, n)


def main(argv=None):
    opt = parse_args(argv)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    run_name = Path(opt.saved_model).resolve().parent.name
    result_dir = Path(opt.result_folder) / run_name
    log_file = check_output_file(result_dir / 'log_evaluation.txt', inputs=(opt.saved_model,), what='evaluation log',
                                 kind='test.py evaluation log', is_own=lambda path: is_recorded(path, COMMAND),
                                 fix='give another --result_folder')
    try:
        result_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f'cannot create {result_dir}: {error.strerror}') from None
    log = setup_logging(quiet=opt.quiet)
    reader = Recognizer.load(opt.saved_model, options=opt, decoding=decoding_from_args(opt), amp=opt.amp,
                             device=device)
    try:
        with also_log_to(log_file):
            evaluate_all(opt, reader, device, log)
    finally:  # appended to next time; a file changed since is the user's
        if log_file.is_file():
            record_files([log_file], COMMAND)


if __name__ == '__main__':
    run_main(main)
