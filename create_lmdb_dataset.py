"""Step 3: a gt file (`path<TAB>label` per line) and its images -> an LMDB dataset in dtrb's layout
(image-%09d, label-%09d, num-samples; indices start at 1).

    python3 create_lmdb_dataset.py --inputPath data/ --gtFile data/gt_train.txt --outputPath data_lmdb/train
"""
import argparse
import os
from collections import Counter
from pathlib import Path

import lmdb
from tqdm import tqdm

from cli import ArgumentParser, output_folder
from gtfile import GtLineError, parse_gt_line, path_under, read_gt_lines
from images import open_image
from utils import UserError, run_main, setup_logging

COMMIT_EVERY = 1000
MAP_HEADROOM = 64 * 1024 * 1024


LMDB_FILES = {'data.mdb', 'lock.mdb'}


def prepare_output(output, input_path):
    """An empty folder to write the LMDB into. Only what this script makes is ever removed: a folder
    holding nothing but data.mdb/lock.mdb (an earlier or half-written LMDB). Any other content, or the
    input folder itself (or a folder above it), is refused."""
    output, root = Path(output).resolve(), Path(input_path).resolve()
    if output == root or output in root.parents:
        raise UserError(f'--outputPath {output} holds --inputPath {root}: give a folder of its own')
    if output.exists():
        if not output.is_dir():
            raise UserError(f'--outputPath {output} is a file')
        found = {entry.name for entry in output.iterdir()}
        if found - LMDB_FILES:
            raise UserError(f'--outputPath {output} holds files other than an LMDB '
                            f'({", ".join(sorted(found - LMDB_FILES)[:3])}, ...): refusing to replace it')
        for name in found:
            (output / name).unlink()
    output.mkdir(parents=True, exist_ok=True)
    return output


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
        image_path = path_under(input_path, relative)
        if image_path is None:
            skipped['path outside --inputPath'] += 1
            continue
        samples.append((image_path, label))
    return samples


def map_size_for(samples):
    """Enough for the images with room for keys and B-tree pages (dtrb's fixed 1 TB map fails on
    some file systems)."""
    total = sum(path.stat().st_size for path, _ in samples if path.is_file())  # is_file: no FIFO, no folder
    return int(total * 1.5) + 2048 * len(samples) + MAP_HEADROOM


def createDataset(inputPath, gtFile, outputPath, checkValid=True):
    """Writes the LMDB and returns (written count, Counter of skip reasons)."""
    skipped = Counter()
    samples = collect_samples(inputPath, gtFile, skipped)
    output = prepare_output(outputPath, inputPath)  # a half-written LMDB is never appended to
    env = lmdb.open(str(output), map_size=map_size_for(samples))
    written = 0
    txn = env.begin(write=True)
    try:
        for image_path, label in tqdm(samples, desc='lmdb', unit='img', disable=None):
            if not image_path.is_file():  # a FIFO or device would block the read
                skipped['missing image' if not image_path.exists() else 'not a regular file'] += 1
                continue
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
    except (lmdb.Error, OSError) as error:  # a full disk shows up here, at a commit
        txn.abort()
        raise UserError(f'cannot write the LMDB {output}: {error}') from None
    finally:
        env.close()
    return written, skipped


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--inputPath', required=True, help='folder the gt paths are relative to')
    parser.add_argument('--gtFile', required=True, help='lines of `path<TAB>label` (or `path label`)')
    parser.add_argument('--outputPath', type=output_folder, required=True,
                        help='LMDB folder to write (an earlier LMDB there is replaced; any other content is refused)')
    parser.add_argument('--no_checkValid', dest='checkValid', action='store_false',
                        help='skip decoding each image before writing it')
    parser.add_argument('--quiet', action='store_true')
    return parser.parse_args(argv)


def main(argv=None):
    opt = parse_args(argv)
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
