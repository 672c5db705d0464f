"""Step 3: a gt file (`path<TAB>label` per line) and its images -> an LMDB dataset in dtrb's layout
(image-%09d, label-%09d, num-samples; indices start at 1).

    python3 create_lmdb_dataset.py --inputPath data/ --gtFile data/gt_train.txt --outputPath data_lmdb/train
"""
import argparse
import os
import shutil
from collections import Counter
from pathlib import Path

import lmdb
from tqdm import tqdm

from dataset import open_image
from utils import GtLineError, UserError, parse_gt_line, read_gt_lines, run_main, setup_logging

COMMIT_EVERY = 1000
MAP_HEADROOM = 64 * 1024 * 1024


def resolve_image_path(input_path, relative):
    """The image a gt path names, or None when it escapes input_path (absolute or `..`)."""
    root = Path(input_path).resolve()
    if Path(relative).is_absolute():
        return None
    candidate = (root / relative).resolve()
    return candidate if candidate == root or root in candidate.parents else None


def collect_samples(input_path, gt_file, skipped):
    """(image path, label) of every usable gt line; the rest are counted in `skipped` by reason."""
    samples, seen = [], set()
    for number, line in read_gt_lines(gt_file):
        if line is None:
            skipped['line is not UTF-8'] += 1
            continue
        try:
            relative, label = parse_gt_line(line)
        except GtLineError as error:
            skipped[str(error)] += 1
            continue
        if (relative, label) in seen:
            skipped['duplicate line'] += 1
            continue
        seen.add((relative, label))
        if not label:
            skipped['empty label'] += 1
            continue
        image_path = resolve_image_path(input_path, relative)
        if image_path is None:
            skipped['path outside --inputPath'] += 1
            continue
        samples.append((image_path, label))
    return samples


def map_size_for(samples):
    """Enough for the images with room for keys and B-tree pages (dtrb's fixed 1 TB map fails on
    some file systems)."""
    total = sum(path.stat().st_size for path, _ in samples if path.is_file())
    return int(total * 1.5) + 2048 * len(samples) + MAP_HEADROOM


def createDataset(inputPath, gtFile, outputPath, checkValid=True):
    """Writes the LMDB and returns (written count, Counter of skip reasons)."""
    skipped = Counter()
    samples = collect_samples(inputPath, gtFile, skipped)
    output = Path(outputPath)
    if output.exists():
        # A half-written LMDB from an interrupted run is never appended to: start clean.
        shutil.rmtree(output)
    output.mkdir(parents=True)
    env = lmdb.open(str(output), map_size=map_size_for(samples))
    written = 0
    txn = env.begin(write=True)
    try:
        for image_path, label in tqdm(samples, desc='lmdb', unit='img', disable=None):
            try:
                image_bytes = image_path.read_bytes()
            except OSError:
                skipped['missing image'] += 1
                continue
            if checkValid and open_image(image_bytes) is None:
                skipped['corrupt image'] += 1
                continue
            written += 1
            txn.put(b'image-%09d' % written, image_bytes)
            txn.put(b'label-%09d' % written, label.encode('utf-8'))
            if written % COMMIT_EVERY == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.put(b'num-samples', str(written).encode())
        txn.commit()
    except lmdb.MapFullError:
        txn.abort()
        raise UserError(f'LMDB map full while writing {output}') from None
    finally:
        env.close()
    return written, skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--inputPath', required=True, help='folder the gt paths are relative to')
    parser.add_argument('--gtFile', required=True, help='lines of `path<TAB>label` (or `path label`)')
    parser.add_argument('--outputPath', required=True, help='LMDB folder to write (replaced if present)')
    parser.add_argument('--no_checkValid', dest='checkValid', action='store_false',
                        help='skip decoding each image before writing it')
    parser.add_argument('--quiet', action='store_true')
    opt = parser.parse_args()
    log = setup_logging(quiet=opt.quiet)
    if not os.path.isdir(opt.inputPath):
        raise UserError(f'--inputPath {opt.inputPath} is not a folder')
    written, skipped = createDataset(opt.inputPath, opt.gtFile, opt.outputPath, opt.checkValid)
    log.info('Created dataset with %d samples in %s', written, opt.outputPath)
    for reason, count in sorted(skipped.items()):
        log.info('skipped %d: %s', count, reason)
    if written == 0:
        raise UserError(f'no sample written from {opt.gtFile}')


if __name__ == '__main__':
    run_main(main)
