"""Step 2: place the images of each gt file into train/, validation/ and test/.

    python3 get_images.py --images kor_dataset/aihub_data/signboard/images --dataset_dir kor_dataset/aihub_data/signboard
    python3 get_images.py --images "Training/[원천]Training_간판_가로형간판_원천데이터1.zip" --dataset_dir ...

Reads the sources_<split>.tsv that aihub_dataset.py wrote beside the gt files: a bbox line becomes a
crop (clipped to the photo), a whole-image line a copy (or a hard link with --link). --images is what
step 1 was given (folders and/or .zip files; photos are read from a zip without unpacking it). Outputs
that exist are kept unless --overwrite, so an interrupted run resumes. A split's outputs go only under its
own <split>/ folder, and only into one that is new, empty or an earlier get_images.py output (marked as
safe_files.claim_output_folder does): a train/ or test/ of the user's own is refused, never written into.
"""
import argparse
import errno
import os
import shutil
import zipfile
from collections import Counter, defaultdict
from functools import partial
import multiprocessing
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from aihub_release import PhotoStore
from cli import ArgumentParser, positive_int
from gtfile import decode_lines, path_under, unsafe_name_reason
from images import open_image
from safe_files import OWNER_MARK, claim_output_folder, read_bytes
from utils import UserError, run_main, setup_logging

SPLITS = ('train', 'validation', 'test')


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', nargs='+', required=True,
                        help='the folders and/or .zip files of the source photos, as given to aihub_dataset.py')
    parser.add_argument('--dataset_dir', required=True, help='folder holding sources_<split>.tsv; outputs go below it')
    parser.add_argument('--workers', type=positive_int, default=max(1, (os.cpu_count() or 1)))
    parser.add_argument('--link', action='store_true',
                        help='hard-link whole images instead of copying (copied where a link cannot be made: '
                             'another file system, or a photo inside a zip)')
    parser.add_argument('--overwrite', action='store_true', help='rewrite outputs that already exist')
    parser.add_argument('--rotate_vertical', action='store_true',
                        help='turn crops taller than 1.5x their width by 90 degrees (text reads left to right)')
    parser.add_argument('--quiet', action='store_true')
    return parser.parse_args(argv)


def parse_source_line(line, split):
    """(output, source, bbox or None) of a line of sources_<split>.tsv, or the reason it cannot be used."""
    fields = line.rstrip('\r').split('\t')
    if len(fields) != 3:
        return f'{len(fields)} fields instead of 3'
    output, source, box = fields
    reason = unsafe_name_reason(output) or unsafe_name_reason(source)
    if reason:
        return reason
    parts = PurePosixPath(output).parts
    if len(parts) < 2 or parts[0] != split or parts[-1] == OWNER_MARK:
        return f'output not a file under {split}/'  # step 1 writes <split>/<name>; nothing else is touched
    try:
        bbox = tuple(int(v) for v in box.split(',')) if box else None
    except ValueError:
        return 'unreadable bbox'
    if bbox is not None and len(bbox) != 4:
        return 'unreadable bbox'
    return output, source, bbox


def read_sources(dataset_dir, split, skipped):
    """(output relative path, source relative path, bbox or None) of a split; missing file -> [].
    Unusable lines are counted in `skipped` by reason."""
    path = Path(dataset_dir) / f'sources_{split}.tsv'
    if not path.exists():
        return []
    raw = read_bytes(path, 'sources file')  # a FIFO in its place is refused, not waited on
    tasks = []
    for _, line in decode_lines(raw):
        parsed = 'not UTF-8' if line is None else parse_source_line(line, split)
        if isinstance(parsed, str):
            skipped[f'sources line skipped: {parsed}'] += 1
        else:
            tasks.append(parsed)
    return tasks


def group_by_source(tasks):
    """[(source, [(output, bbox), ...])]: each photo is decoded once for all of its crops."""
    groups = defaultdict(list)
    for output, source, bbox in tasks:
        groups[source].append((output, bbox))
    return list(groups.items())


def crop(photo, bbox, rotate_vertical):
    x, y, w, h = bbox
    box = (max(0, x), max(0, y), min(photo.width, x + w), min(photo.height, y + h))
    if box[2] - box[0] < 1 or box[3] - box[1] < 1:
        return None
    region = photo.crop(box)
    if rotate_vertical and region.height > 1.5 * region.width:
        region = region.transpose(Image.Transpose.ROTATE_90)
    return region


def write_atomically(target, write):
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f'.{target.name}.part')
    try:
        write(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


COPIED_NOT_LINKED = 'written (copied: no hard link across file systems or out of a zip)'
PLACED = ('written', COPIED_NOT_LINKED, 'kept (exists)')
NOT_AMONG_IMAGES = 'its folder or zip is not among --images'



def place_whole(source, relative, target, link):
    """Copies (or hard-links) one whole image; returns its outcome."""
    path = None if source.is_zip else source.file_path(relative)
    if path is None:
        data = source.read(relative)
        write_atomically(target, lambda temp: temp.write_bytes(data))
        return COPIED_NOT_LINKED if link else 'written'
    if link:
        try:
            write_atomically(target, lambda temp: os.link(path, temp))
            return 'written'
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
        write_atomically(target, lambda temp: shutil.copyfile(path, temp))
        return COPIED_NOT_LINKED
    write_atomically(target, lambda temp: shutil.copyfile(path, temp))
    return 'written'


def place_source(group, photos, dataset_dir, link, overwrite, rotate_vertical):
    """Writes the outputs of one source photo; returns one outcome string per output."""
    key, outputs = group
    targets = [(path_under(dataset_dir, output), bbox) for output, bbox in outputs]
    outcomes = ['output path outside --dataset_dir'] * sum(target is None for target, _ in targets)
    targets = [(target, bbox) for target, bbox in targets if target is not None]
    pending = [(target, bbox) for target, bbox in targets if overwrite or not target.exists()]
    outcomes += ['kept (exists)'] * (len(targets) - len(pending))
    if not pending:
        return outcomes
    located = photos.locate(key)
    if located is None:
        return outcomes + [NOT_AMONG_IMAGES] * len(pending)
    source, relative = located
    if not source.is_zip and path_under(source.path, relative) is None:
        return outcomes + ['image path outside --images'] * len(pending)
    if not source.has(relative):
        return outcomes + ['missing image'] * len(pending)
    try:
        photo = None
        for target, bbox in pending:
            if bbox is None:
                outcomes.append(place_whole(source, relative, target, link))
                continue
            if photo is None:
                photo = open_image(source.read(relative), rgb=True)
                if photo is None:
                    raise UnidentifiedImageError(key)
            region = crop(photo, bbox, rotate_vertical)
            if region is None:
                outcomes.append('bbox outside the image')
                continue
            write_atomically(target, lambda temp: region.save(temp, format='JPEG', quality=95))
            outcomes.append('written')
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, zipfile.BadZipFile, EOFError):
        outcomes += ['corrupt image'] * (len(outputs) - len(outcomes))
    return outcomes


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    photos = PhotoStore(opt.images)
    skipped = Counter()
    tasks = [task for split in SPLITS for task in read_sources(opt.dataset_dir, split, skipped)]
    for reason, count in sorted(skipped.items()):
        log.warning('%s: %d', reason, count)
    if not tasks:
        raise UserError(f'no sources_<split>.tsv with lines in {opt.dataset_dir}: run aihub_dataset.py first')
    for split in sorted({PurePosixPath(output).parts[0] for output, _, _ in tasks}):
        claim_output_folder(Path(opt.dataset_dir) / split, 'get_images.py',
                            fix='move it away, or give aihub_dataset.py and get_images.py another folder')
    groups = group_by_source(tasks)
    place = partial(place_source, photos=photos, dataset_dir=opt.dataset_dir, link=opt.link,
                    overwrite=opt.overwrite, rotate_vertical=opt.rotate_vertical)
    outcomes = Counter()
    progress = dict(total=len(groups), desc='images', unit='img', disable=True if opt.quiet else None)
    if opt.workers > 1:
        # forkserver: forking a process that already runs torch/OpenMP threads can hang the children
        with multiprocessing.get_context('forkserver').Pool(opt.workers) as pool:
            for group_outcomes in tqdm(pool.imap_unordered(place, groups, chunksize=64), **progress):
                outcomes.update(group_outcomes)
    else:
        for group_outcomes in tqdm(map(place, groups), **progress):
            outcomes.update(group_outcomes)
    for outcome, count in sorted(outcomes.items()):
        log.info('%s: %d', outcome, count)
    failed = sum(c for o, c in outcomes.items() if o not in PLACED)
    if failed:
        log.warning('%d of %d images could not be placed; their gt lines will be skipped by '
                    'create_lmdb_dataset.py', failed, len(tasks))
    if outcomes['missing image'] + outcomes[NOT_AMONG_IMAGES] == len(tasks):
        log.warning('no photo was found: give --images as aihub_dataset.py was given it (the same folders '
                    'and .zip files), since sources_<split>.tsv names photos by where they were found')


if __name__ == '__main__':
    run_main(main)
