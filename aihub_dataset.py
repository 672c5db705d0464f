"""Step 1: AI Hub label JSON -> gt_train.txt, gt_validation.txt, gt_test.txt (`train/<file>\t<label>`).

    python3 aihub_dataset.py --images kor_dataset/aihub_data/signboard/images \
        --labels kor_dataset/aihub_data/signboard/labels --output kor_dataset/aihub_data/signboard
    python3 aihub_dataset.py --images "Training/[원천]Training_간판_가로형간판_원천데이터1.zip" \
        --labels "Training/[라벨]Training.zip" --output kor_dataset/aihub_data/signboard

--images and --labels take folders (searched through: a release's nested trees as they come) and the
downloaded .zip files themselves, several of each; a photo is found by the name its label gives, wherever
it sits. The layouts (--data_type, detected when omitted):
  signboard      야외 실제 촬영 한글 이미지: a JSON per photo, images[] and annotations[] with bbox [x, y, w, h]
  font           한국어 글자체 이미지 (printed, handwritten): one JSON, one text per image, no bbox
  textinthewild  한국어 글자체 이미지, Text in the wild: textinthewild_data_info.json, a bbox per annotation;
                 only attributes.class 'word' boxes with a text become crops ('character' and 'ignored'
                 boxes are counted)
  ocr            다양한 형태의 한글 문자 OCR: a JSON per page, image {file_name, ...} and text.word[] with
                 wordbox [x1, y1, x2, y2] and value (the per-letter boxes are not read)

The split is seeded and by source photo: the crops of one photo never land in two splits. Beside each
gt file, sources_<split>.tsv tells get_images.py which photo (and bbox) each line comes from. --output is
often the folder of the user's own images/ and labels/, so these six files are replaced only when they are
exactly what an earlier run wrote (their digests are kept in safe_files.FILES_MARK beside them); a gt file
of the user's, or one they changed since, is kept and the run refused.
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

from aihub_release import TEXT_IN_THE_WILD_CLASSES, LabelFiles, PhotoStore
from cli import ArgumentParser, non_negative_float, output_folder
from gtfile import has_control_character, tsv_line, unsafe_name_reason
from charset import LabelNormalizer, load_charset, nfc
from safe_files import FILES_MARK, check_output_file, is_files_record, is_recorded, record_files
from utils import UserError, run_main, setup_logging

SPLITS = ('train', 'validation', 'test')
COMMAND = 'aihub_dataset.py'  # whose outputs an earlier run's record names
DEFAULT_PLACEHOLDERS = ('xxx', 'XXX', '###')
IMAGE_LIST_TYPES = ('signboard', 'font', 'textinthewild')  # an `images` list beside `annotations`
DATA_TYPES = IMAGE_LIST_TYPES + ('ocr',)                     # ocr: an `image` object and `text.word`
NAMED_WARNINGS = 5  # files named one by one per reason; the rest are counted


@dataclass
class Sample:
    source: str          # the photo's key (aihub_release): its path under --images, or <zip or folder>/<path>
    label: str
    bbox: tuple = None   # (x, y, w, h) clipped to the image, or None for a whole-image label
    crop_index: int = 0  # position among the crops of its photo
    name: str = None     # the file name the label JSON gives (output names are made from it)


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data_type', choices=DATA_TYPES, default=None,
                        help='the label layout (see above); detected when omitted')
    parser.add_argument('--images', nargs='+', required=True,
                        help='folders and/or .zip files holding the photos the JSON names (searched through)')
    parser.add_argument('--labels', nargs='+', required=True,
                        help='label JSON files, folders of them (searched through) and/or .zip files')
    parser.add_argument('--output', type=output_folder, required=True, help='where gt_<split>.txt and sources_<split>.tsv go')
    parser.add_argument('--split', type=non_negative_float, nargs=3, default=(0.7, 0.15, 0.15), metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--character_file', default=None, help='skip labels with characters outside this charset')
    parser.add_argument('--placeholder', nargs='*', default=list(DEFAULT_PLACEHOLDERS),
                        help='labels that mark unreadable text (skipped)')
    parser.add_argument('--quiet', action='store_true')
    return parser.parse_args(argv)


class Warnings:
    """One warning line per file for the first few of each reason, then only the count."""

    def __init__(self, log):
        self.log, self.seen = log, Counter()

    def __call__(self, reason, file, detail=''):
        self.seen[reason] += 1
        if self.seen[reason] <= NAMED_WARNINGS:
            self.log.warning('skipped %s: %s%s', file, reason, f' ({detail})' if detail else '')
        elif self.seen[reason] == NAMED_WARNINGS + 1:
            self.log.warning('(further files skipped as "%s" are counted, not named)', reason)


def load_documents(files, skipped, warn):
    """(file name, parsed JSON) of each label file; an unreadable or unparsable one is named, counted
    and passed over."""
    for name, data in tqdm(files.read(), total=len(files), desc='json', unit='file',
                           disable=None if len(files) > 1 else True):
        if isinstance(data, str):
            skipped['unreadable label file'] += 1
            warn('unreadable label file', name, data)
            continue
        try:
            document = json.loads(data.decode('utf-8-sig'))
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            skipped['unparsable JSON file'] += 1
            warn('unparsable JSON file', name, str(error).splitlines()[0])
            continue
        yield name, document


def document_shape(document):
    """'ocr' (an `image` object and a `text` object), 'images' (an `images` list) or None."""
    if isinstance(document, dict):
        if isinstance(document.get('image'), dict) and isinstance(document.get('text'), dict):
            return 'ocr'
        if isinstance(document.get('images'), list):
            return 'images'
    return None


def describe(document):
    """What a JSON document is, in a few words: its keys, or its kind when it is no object."""
    if isinstance(document, dict):
        keys = sorted(map(str, document))
        return f'keys: {", ".join(keys[:12])}{", ..." if len(keys) > 12 else ""}' if keys else 'an empty object'
    kinds = {list: 'a list', str: 'a string', bool: 'true or false', type(None): 'null'}
    return f'a JSON {kinds.get(type(document), "number")}, not an object'


def annotation_list(document):
    return document.get('annotations', document.get('annoations'))  # the seed spells it both ways


def detect_image_list_type(document):
    """textinthewild (annotations name their class), signboard (a bbox) or font (neither) by the first
    annotation; None when the document has none to go by."""
    annotations = annotation_list(document)
    for annotation in annotations if isinstance(annotations, list) else []:
        if isinstance(annotation, dict):
            attributes = annotation.get('attributes')
            if isinstance(attributes, dict) and attributes.get('class') in TEXT_IN_THE_WILD_CLASSES:
                return 'textinthewild'
            return 'signboard' if 'bbox' in annotation else 'font'
    return None


def finite_number(value):
    """A JSON number as a finite float; None for strings, booleans, NaN, infinities and the like."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def corners_to_bbox(box):
    """The OCR set's wordbox [x1, y1, x2, y2] as [x, y, w, h]; anything else returned as it is (and
    counted as a malformed bbox)."""
    if isinstance(box, (list, tuple)) and len(box) == 4:
        numbers = [finite_number(v) for v in box]
        if None not in numbers:
            x1, y1, x2, y2 = numbers
            return [x1, y1, x2 - x1, y2 - y1]
    return box


BAD_BBOX = 'bbox is not 4 numbers (null, text or another length)'
OUTSIDE_BBOX = 'bbox outside the image or zero-sized'


def clip_bbox(bbox, width, height):
    """(x, y, w, h) clipped to the image, or the reason it cannot be used (BAD_BBOX, OUTSIDE_BBOX)."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
        return BAD_BBOX
    numbers = [finite_number(v) for v in bbox]
    if None in numbers:
        return BAD_BBOX
    x, y, w, h = numbers
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = x + w, y + h
    width, height = finite_number(width), finite_number(height)
    if width and width > 0:
        x1 = min(width, x1)
    if height and height > 0:
        y1 = min(height, y1)
    if w <= 0 or h <= 0 or x1 - x0 < 1 or y1 - y0 < 1:
        return OUTSIDE_BBOX
    return int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0))


def ocr_page(document):
    """An OCR-set page as (images, annotations) of the images-list form: one image, one annotation per
    text.word entry; None for annotations when the page has no word list."""
    image = {**document['image'], 'id': 'page'}
    words = document['text'].get('word')
    if not isinstance(words, list):
        return [image], None
    return [image], [{'image_id': 'page', 'text': word.get('value'), 'bbox': corners_to_bbox(word.get('wordbox'))}
                     if isinstance(word, dict) else word for word in words]


class Collector:
    """Turns documents into Samples, counting every annotation it cannot use by reason."""

    def __init__(self, photos, normalizer, placeholders):
        self.photos = photos  # aihub_release.PhotoIndex
        self.normalizer = normalizer
        self.placeholders = {nfc(p) for p in placeholders}
        self.skipped = Counter()
        self.images = 0
        self.annotations = 0
        self.crops_per_source = defaultdict(int)
        self.located = {}  # NFC file_name -> photo key, or None (missing), or [keys] (ambiguous)
        self.types = Counter()

    def add(self, document, data_type, samples):
        """The annotations of one document read as `data_type`. An image id given twice names no image
        (which photo its annotations belong to is unknown), so they are skipped and counted."""
        self.types[data_type] += 1
        if data_type == 'ocr':
            entries, annotations = ocr_page(document)
            if annotations is None:
                reason = ('per-letter label, no text.word boxes' if 'letter' in document['text']
                          else 'page without a text.word list')
                self.skipped[reason] += 1
        else:
            entries, annotations = document['images'], annotation_list(document)
            if annotations is not None and not isinstance(annotations, list):
                self.skipped['label file whose "annotations" is not a list'] += 1
        images, duplicates = {}, set()
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get('id'), (int, str)) and not isinstance(entry['id'], bool):
                key = str(entry['id'])
                if key in images:
                    duplicates.add(key)
                images[key] = entry
                self._locate(entry.get('file_name'))
        for key in duplicates:
            images[key] = None
        self.images += len(images)
        for annotation in annotations if isinstance(annotations, list) else []:
            self.annotations += 1
            sample = self._sample(annotation, images, data_type)
            if sample is not None:
                samples.append(sample)

    def _locate(self, file_name):
        """The photo a file_name names (looked up once per name)."""
        if not isinstance(file_name, str) or unsafe_name_reason(file_name):
            return None
        name = nfc(file_name)
        if name not in self.located:
            key, candidates = self.photos.find(name)
            self.located[name] = key if key is not None else candidates
        return self.located[name]

    def _sample(self, annotation, images, data_type):
        if not isinstance(annotation, dict):
            return self._skip('malformed annotation')
        attributes = annotation.get('attributes')
        kind = attributes.get('class') if isinstance(attributes, dict) else None
        if kind == 'character':
            return self._skip('character box (Text in the wild: one letter of a word box)')
        if kind == 'ignored':
            return self._skip('ignored box (Text in the wild)')
        image_id = annotation.get('image_id')
        if not isinstance(image_id, (int, str)) or isinstance(image_id, bool) or str(image_id) not in images:
            return self._skip('annotation names no image entry')
        entry = images[str(image_id)]
        if entry is None:
            return self._skip('image id given to two images')
        file_name = entry.get('file_name')
        if not isinstance(file_name, str) or unsafe_name_reason(file_name):
            return self._skip('unusable image file_name (not a string, control character, absolute or ..)')
        source = self._locate(file_name)
        if source is None:
            return self._skip('missing image')
        if isinstance(source, list):
            return self._skip('photo name found in several places (ambiguous, not guessed)')
        text = annotation.get('text')
        if text is None:
            return self._skip('no text (null)')
        if not isinstance(text, str):
            return self._skip('text is not a string')
        text = nfc(text).strip()
        if not text:
            return self._skip('empty text')
        if has_control_character(text):
            return self._skip('line break or control character in the text')
        if text in self.placeholders:
            return self._skip('unreadable placeholder')
        if self.normalizer and self.normalizer.unknown_characters(self.normalizer(text)):
            return self._skip('characters outside the charset')
        bbox = None
        if data_type != 'font':
            if annotation.get('bbox') is None:
                return self._skip('no bbox')
            bbox = clip_bbox(annotation['bbox'], entry.get('width'), entry.get('height'))
            if isinstance(bbox, str):
                return self._skip(bbox)
        index = self.crops_per_source[source]
        self.crops_per_source[source] += 1
        return Sample(source, text, bbox, index, nfc(file_name))

    def _skip(self, reason):
        self.skipped[reason] += 1
        return None

    def photo_counts(self):
        """(found, not found, ambiguous) among the photo names the labels give."""
        values = list(self.located.values())
        return (sum(isinstance(v, str) for v in values), values.count(None),
                sum(isinstance(v, list) for v in values))


def collect(documents, given_type, collector, warn):
    """Samples of every document: the OCR set's pages by their shape, the images-list layouts by
    --data_type or, when it is not given, by the first document whose annotations tell."""
    samples, pending = [], []
    list_type = given_type if given_type in IMAGE_LIST_TYPES else None
    for name, document in documents:
        shape = document_shape(document)
        if shape is None:
            collector.skipped['JSON of an unknown layout'] += 1
            warn('JSON of an unknown layout', name, describe(document))
        elif given_type and (shape == 'ocr') != (given_type == 'ocr'):
            reason = f'JSON of another layout than --data_type {given_type}'
            collector.skipped[reason] += 1
            warn(reason, name, describe(document))
        elif shape == 'ocr':
            collector.add(document, 'ocr', samples)
        else:
            list_type = list_type or detect_image_list_type(document)
            pending.append(document)
            if list_type:
                for waiting in pending:
                    collector.add(waiting, list_type, samples)
                pending = []
    for waiting in pending:  # none of them had an annotation to tell the layout by
        collector.add(waiting, list_type or 'font', samples)
    return samples


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


def output_names(samples):
    """{photo key: the name its outputs are made from}: the file name its label gives (a name always
    leads to one photo, so no two photos share one)."""
    names = {}
    for sample in samples:
        names.setdefault(sample.source, sample.name or sample.source)
    return names


def shared_stems(names):
    """Stems that more than one photo has (c.jpg and c.png)."""
    counts = Counter(PurePosixPath(name).with_suffix('').as_posix() for name in names)
    return frozenset(stem for stem, count in counts.items() if count > 1)


def output_name(sample, split, name, shared=frozenset()):
    """The gt path of a sample: `name` itself for a whole-image label, <stem>_<crop>.jpg for a bbox crop
    (<name>_<crop>.jpg when another photo has the same stem)."""
    if sample.bbox is None:
        return f'{split}/{PurePosixPath(name).as_posix()}'
    stem = PurePosixPath(name).with_suffix('').as_posix()
    if stem in shared:
        stem = PurePosixPath(name).as_posix()
    return f'{split}/{stem}_{sample.crop_index:03d}.jpg'


def output_files(output):
    """{split: (gt file, sources file)} in --output."""
    return {split: (Path(output) / f'gt_{split}.txt', Path(output) / f'sources_{split}.tsv') for split in SPLITS}


def check_outputs(opt):
    """Refuses, before anything is read or written, an output file that is one of the inputs, or that exists
    and is not exactly what an earlier aihub_dataset.py run wrote there (the user's own, or changed since)."""
    inputs = [*opt.images, *opt.labels, opt.character_file]
    for path in (path for pair in output_files(opt.output).values() for path in pair):
        check_output_file(path, inputs, 'output file', 'gt or sources file aihub_dataset.py wrote',
                          is_own=lambda existing: is_recorded(existing, COMMAND), fix='give another --output')
    check_output_file(Path(opt.output) / FILES_MARK, inputs, 'output file', 'record', is_own=is_files_record,
                      fix='give another --output')


def temporary(path):
    return path.with_name(f'.{path.name}.part')


def write_split_files(samples, assignment, output):
    """Writes the gt and sources file of each split (each in full, then moved into place) and records them
    as this command's own."""
    counts = Counter()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    handles = {}
    names = output_names(samples)
    shared = shared_stems(names.values())
    files = output_files(output)
    try:
        for split in SPLITS:
            handles[split] = tuple(open(temporary(path), 'w', encoding='utf-8', newline='\n') for path in files[split])
        for sample in samples:
            split = assignment[sample.source]
            gt, sources = handles[split]
            name = output_name(sample, split, names[sample.source], shared)
            gt.write(tsv_line(name, sample.label))
            box = '' if sample.bbox is None else ','.join(map(str, sample.bbox))
            sources.write(tsv_line(name, sample.source, box))
            counts[split] += 1
    except BaseException:
        for pair in files.values():
            for path in pair:
                temporary(path).unlink(missing_ok=True)
        raise
    finally:
        for gt, sources in handles.values():
            gt.close()
            sources.close()
    for pair in files.values():
        for path in pair:
            os.replace(temporary(path), path)
    record_files([path for pair in files.values() for path in pair], COMMAND)
    return counts


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    check_outputs(opt)
    files = LabelFiles(opt.labels)
    photos = PhotoStore(opt.images).index()
    normalizer = LabelNormalizer(load_charset(character_file=opt.character_file)) if opt.character_file else None
    collector = Collector(photos, normalizer, opt.placeholder)
    warn = Warnings(log)
    samples = collect(load_documents(files, collector.skipped, warn), opt.data_type, collector, warn)
    if not samples:
        raise UserError(f'no usable annotation in {" ".join(opt.labels)} (skipped: {dict(collector.skipped)})')
    assignment = split_sources({s.source for s in samples}, opt.split, opt.seed)
    counts = write_split_files(samples, assignment, opt.output)

    types = ', '.join(f'{kind} {count}' for kind, count in sorted(collector.types.items()))
    log.info('%d label files (%s), %d images, %d annotations', len(files), types, collector.images,
             collector.annotations)
    found, missing, ambiguous = collector.photo_counts()
    named = {key for found in collector.located.values() if found for key in ([found] if isinstance(found, str) else found)}
    log.info('photos: %d named by the labels are found, %d are not (label without photo), %d ambiguous; '
             '%d photos under --images have no label (photo without label)', found, missing, ambiguous,
             len(photos.photos - named))
    for name, keys in [(n, k) for n, k in collector.located.items() if isinstance(k, list)][:NAMED_WARNINGS]:
        log.warning('ambiguous photo name %s: %s', name, ', '.join(keys[:4]))
    log.info('written: %s', ', '.join(f'{split} {counts[split]}' for split in SPLITS))
    for reason, count in sorted(collector.skipped.items()):
        log.info('skipped %d: %s', count, reason)


if __name__ == '__main__':
    run_main(main)
