"""Step 1: AI Hub label JSON -> gt_train.txt, gt_validation.txt, gt_test.txt (`train/<file>\t<label>`).

    python3 aihub_dataset.py --data_type signboard --images kor_dataset/aihub_data/signboard/images \
        --labels kor_dataset/aihub_data/signboard/labels --output kor_dataset/aihub_data/signboard
    python3 aihub_dataset.py --data_type font --images .../font/images --labels .../font/printed_data_info.json \
        --output .../font

The split is seeded and by source photo: the crops of one photo never land in two splits. Beside each
gt file, sources_<split>.tsv tells get_images.py which image (and bbox) each line comes from.
"""
import argparse
import json
import math
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from cli import ArgumentParser, non_negative_float, output_folder
from gtfile import has_control_character, tsv_line, unsafe_name_reason
from charset import LabelNormalizer, load_charset, nfc
from utils import UserError, run_main, setup_logging

SPLITS = ('train', 'validation', 'test')
DEFAULT_PLACEHOLDERS = ('xxx', 'XXX', '###')


@dataclass
class Sample:
    source: str          # image file name under --images
    label: str
    bbox: tuple = None   # (x, y, w, h) clipped to the image, or None for a whole-image label
    crop_index: int = 0  # position among the crops of its photo


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data_type', choices=('signboard', 'font'), default=None,
                        help='signboard (bbox per text) or font (one text per image); detected when omitted')
    parser.add_argument('--images', required=True, help='folder holding the images the JSON names')
    parser.add_argument('--labels', required=True, help='a folder of per-image JSON files, or one JSON file')
    parser.add_argument('--output', type=output_folder, required=True, help='where gt_<split>.txt and sources_<split>.tsv go')
    parser.add_argument('--split', type=non_negative_float, nargs=3, default=(0.7, 0.15, 0.15), metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--character_file', default=None, help='skip labels with characters outside this charset')
    parser.add_argument('--placeholder', nargs='*', default=list(DEFAULT_PLACEHOLDERS),
                        help='labels that mark unreadable text (skipped)')
    parser.add_argument('--quiet', action='store_true')
    return parser.parse_args(argv)


def label_files(labels):
    path = Path(labels)
    if path.is_dir():
        files = sorted(path.rglob('*.json'))
        if not files:
            raise UserError(f'no .json file under {path}')
        return files
    if path.is_file():
        return [path]
    raise UserError(f'--labels {labels} does not exist')


def load_documents(files, skipped, log):
    """Parsed JSON documents; an unparsable file is named, counted and passed over."""
    for file in tqdm(files, desc='json', unit='file', disable=None if len(files) > 1 else True):
        try:
            with open(file, encoding='utf-8-sig') as handle:
                document = json.load(handle)
            if not isinstance(document, dict) or not isinstance(document.get('images'), list):
                raise ValueError('no "images" list')
        except (ValueError, UnicodeDecodeError, OSError, RecursionError) as error:
            skipped['unparsable JSON file'] += 1
            log.warning('skipped %s: %s', file, str(error).splitlines()[0])
            continue
        yield document


def finite_number(value):
    """A JSON number as a finite float; None for strings, booleans, NaN, infinities and the like."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def clip_bbox(bbox, width, height):
    """(x, y, w, h) clipped to the image; None when zero-sized, malformed or wholly outside."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return None
    numbers = [finite_number(v) for v in bbox]
    if None in numbers:
        return None
    x, y, w, h = numbers
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = x + w, y + h
    width, height = finite_number(width), finite_number(height)
    if width and width > 0:
        x1 = min(width, x1)
    if height and height > 0:
        y1 = min(height, y1)
    if w <= 0 or h <= 0 or x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0))


class Collector:
    """Turns documents into Samples, counting every annotation it cannot use by reason."""

    def __init__(self, data_type, existing_images, normalizer, placeholders):
        self.data_type = data_type
        self.existing = existing_images  # NFC name -> the name on disk
        self.normalizer = normalizer
        self.placeholders = {nfc(p) for p in placeholders}
        self.skipped = Counter()
        self.images = 0
        self.annotations = 0
        self.crops_per_source = defaultdict(int)

    def add(self, document, samples):
        """The annotations of one document; an image id given twice names no image (which photo its
        annotations belong to is unknown), so they are skipped and counted."""
        images, duplicates = {}, set()
        for entry in document.get('images', []):
            if isinstance(entry, dict) and isinstance(entry.get('id'), (int, str)) and not isinstance(entry['id'], bool):
                key = str(entry['id'])
                if key in images:
                    duplicates.add(key)
                images[key] = entry
        for key in duplicates:
            images[key] = None
        self.images += len(images)
        annotations = document.get('annotations', document.get('annoations', []))  # the seed spells it both ways
        for annotation in annotations if isinstance(annotations, list) else []:
            self.annotations += 1
            sample = self._sample(annotation, images)
            if sample is not None:
                samples.append(sample)

    def _sample(self, annotation, images):
        if not isinstance(annotation, dict):
            return self._skip('malformed annotation')
        image_id = annotation.get('image_id')
        if not isinstance(image_id, (int, str)) or isinstance(image_id, bool) or str(image_id) not in images:
            return self._skip('annotation names no image entry')
        entry = images[str(image_id)]
        if entry is None:
            return self._skip('image id given to two images')
        file_name = entry.get('file_name')
        if not isinstance(file_name, str) or unsafe_name_reason(file_name):
            return self._skip('unusable image file_name (not a string, control character, absolute or ..)')
        file_name = self.existing.get(nfc(file_name))
        if file_name is None:
            return self._skip('missing image')
        text = annotation.get('text')
        if text is not None and not isinstance(text, str):
            return self._skip('text is not a string')
        text = nfc(text or '').strip()
        if not text:
            return self._skip('empty text')
        if has_control_character(text):
            return self._skip('line break or control character in the text')
        if text in self.placeholders:
            return self._skip('unreadable placeholder')
        if self.normalizer and self.normalizer.unknown_characters(self.normalizer(text)):
            return self._skip('characters outside the charset')
        bbox = None
        if self.data_type == 'signboard' and annotation.get('bbox') is not None:
            bbox = clip_bbox(annotation['bbox'], entry.get('width'), entry.get('height'))
            if bbox is None:
                return self._skip('bbox outside the image or zero-sized')
        elif self.data_type == 'signboard':
            return self._skip('no bbox')
        index = self.crops_per_source[file_name]
        self.crops_per_source[file_name] += 1
        return Sample(file_name, text, bbox, index)

    def _skip(self, reason):
        self.skipped[reason] += 1
        return None


def detect_data_type(files):
    """signboard when the first readable annotation has a bbox."""
    for file in files[:20]:
        try:
            document = json.loads(Path(file).read_text(encoding='utf-8-sig'))
            annotations = document.get('annotations', document.get('annoations', []))
        except (ValueError, UnicodeDecodeError, AttributeError, OSError, RecursionError):
            continue
        if isinstance(annotations, list) and annotations:
            return 'signboard' if isinstance(annotations[0], dict) and 'bbox' in annotations[0] else 'font'
    raise UserError('cannot detect --data_type from the label files; give it')


def split_sources(sources, ratios, seed):
    """Assign each source photo to a split: seeded shuffle of the sorted names, cut by the ratios."""
    if any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise UserError(f'--split {" ".join(map(str, ratios))} must be non-negative and not all zero')
    names = sorted(sources)
    random.Random(seed).shuffle(names)
    total = sum(ratios)
    cut_train = round(len(names) * ratios[0] / total)
    cut_valid = cut_train + round(len(names) * ratios[1] / total)
    return {name: SPLITS[0] if i < cut_train else SPLITS[1] if i < cut_valid else SPLITS[2]
            for i, name in enumerate(names)}


def output_name(sample, split, shared_stems=frozenset()):
    """The gt path of a sample: the image itself, or <stem>_<crop>.jpg for a bbox crop
    (<name>_<crop>.jpg when another photo has the same stem: c.jpg and c.png)."""
    source = PurePosixPath(sample.source)
    if sample.bbox is None:
        return f'{split}/{source.as_posix()}'
    stem = source.with_suffix('').as_posix()
    if stem in shared_stems:
        stem = source.as_posix()
    return f'{split}/{stem}_{sample.crop_index:03d}.jpg'


def shared_stems(sources):
    """Stems that more than one source photo has."""
    counts = Counter(PurePosixPath(source).with_suffix('').as_posix() for source in sources)
    return frozenset(stem for stem, count in counts.items() if count > 1)


def write_split_files(samples, assignment, output):
    counts = Counter()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    handles = {}
    shared = shared_stems({sample.source for sample in samples})
    try:
        for split in SPLITS:
            handles[split] = (open(output / f'gt_{split}.txt', 'w', encoding='utf-8', newline='\n'),
                              open(output / f'sources_{split}.tsv', 'w', encoding='utf-8', newline='\n'))
        for sample in samples:
            split = assignment[sample.source]
            gt, sources = handles[split]
            name = output_name(sample, split, shared)
            gt.write(tsv_line(name, sample.label))
            box = '' if sample.bbox is None else ','.join(map(str, sample.bbox))
            sources.write(tsv_line(name, sample.source, box))
            counts[split] += 1
    finally:
        for gt, sources in handles.values():
            gt.close()
            sources.close()
    return counts


def list_existing_images(images):
    """Every file under --images, {NFC relative path: relative path on disk}: one walk, then look-ups.
    Names unpacked on macOS are NFD on disk while the JSON has them NFC; both find the file."""
    root = Path(images)
    if not root.is_dir():
        raise UserError(f'--images {images} is not a folder')
    existing = {}
    for folder, _, files in os.walk(root):
        relative = Path(folder).relative_to(root)
        for name in files:
            on_disk = (relative / name).as_posix() if relative.parts else name
            if not has_control_character(on_disk):
                existing.setdefault(nfc(on_disk), on_disk)
    return existing


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    files = label_files(opt.labels)
    data_type = opt.data_type or detect_data_type(files)
    normalizer = LabelNormalizer(load_charset(character_file=opt.character_file)) if opt.character_file else None
    collector = Collector(data_type, list_existing_images(opt.images), normalizer, opt.placeholder)
    samples = []
    for document in load_documents(files, collector.skipped, log):
        collector.add(document, samples)
    if not samples:
        raise UserError(f'no usable annotation in {opt.labels} (skipped: {dict(collector.skipped)})')
    assignment = split_sources({s.source for s in samples}, opt.split, opt.seed)
    counts = write_split_files(samples, assignment, opt.output)

    log.info('%s: %d label files, %d images, %d annotations', data_type, len(files), collector.images,
             collector.annotations)
    log.info('written: %s', ', '.join(f'{split} {counts[split]}' for split in SPLITS))
    for reason, count in sorted(collector.skipped.items()):
        log.info('skipped %d: %s', count, reason)


if __name__ == '__main__':
    run_main(main)
