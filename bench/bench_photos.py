"""Whole photographs read: how many labelled words kocrnn finds and reads, beside Tesseract on the same photos.

    python3 bench/bench_photos.py --synthetic 40                       # the project's own photos, boxes known
    python3 bench/bench_photos.py --aihub IMAGES LABELS                # any AI Hub signboard-format set
    python3 bench/bench_photos.py --sources ../shared/real_dev/SOURCES.tsv --labels ../shared/real_dev/labels.txt \
        --photo_root PHOTOS            # real_dev's boxes on the whole photos it was cut from (PHOTOS/<repo>/<path>)
    python3 bench/bench_photos.py --crops ../shared/real_dev   # word crops given as photos: read whole?

A labelled word counts as found when the texts read whose centres lie inside its box, in reading order,
equal its label (spaces aside, NFC). Recall: found / labelled. Where every text of a photo is labelled
(the synthetic and AI Hub sets) precision is the share of texts read that lie in a found box, and F1
their harmonic mean; on real_dev's photos only some words are labelled, so recall alone is printed.
Each of --splits (read_photo's auto|words|lines) is a row; --tesseract adds Tesseract 5
(`-l kor+eng --psm 11`, its word boxes). Photos/s is detection + recognition per photo (model loaded),
and the speed line times one photo scaled to 1,600 pixels. --crops FOLDER (images/ + labels.txt) gives
each word crop as a photo, its whole frame the labelled box. Prints its figures; asserts nothing.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from charset import nfc  # noqa: E402
from detection import TextDetector  # noqa: E402
from gtfile import parse_gt_line, read_gt_lines  # noqa: E402
from images import open_image  # noqa: E402
from precision import cpu_flags  # noqa: E402
from recognizer import DEFAULT_MODEL, Recognizer  # noqa: E402


@dataclass
class LabelledPhoto:
    name: str
    picture: object                               # RGB PIL image
    boxes: list = field(default_factory=list)     # (label, (x0, y0, x1, y1))


@dataclass
class Tally:
    labelled: int = 0
    found: int = 0
    texts: int = 0
    texts_in_found: int = 0
    seconds: float = 0.0
    photos: int = 0

    def row(self, complete):
        recall = 100 * self.found / max(self.labelled, 1)
        cells = [f'recall {recall:5.1f} % ({self.found}/{self.labelled})']
        if complete:
            precision = 100 * self.texts_in_found / max(self.texts, 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-9)
            cells += [f'precision {precision:5.1f} %', f'F1 {f1:5.1f} %']
        cells.append(f'{self.photos / max(self.seconds, 1e-9):.2f} photos/s')
        return '  '.join(cells)


def squeeze(text):
    return ''.join(nfc(text).split())


def score_photo(photo, found, tally):
    """found: (text, centre x, centre y) in reading order."""
    tally.labelled += len(photo.boxes)
    tally.texts += len(found)
    for label, (x0, y0, x1, y1) in photo.boxes:
        inside = [text for text, x, y in found if x0 <= x <= x1 and y0 <= y <= y1]
        if inside and squeeze(''.join(inside)) == squeeze(label):
            tally.found += 1
            tally.texts_in_found += len(inside)


# ---------------------------------------------------------------- the photo sets

def read_labels(label_file):
    """{name: label} of a gt file (`name label` / `name<TAB>label`, read as every script reads them)."""
    return dict(parse_gt_line(line) for _, line in read_gt_lines(label_file) if line is not None)


def aihub_photos(images, labels):
    """Photos of an AI Hub signboard-format set: every annotation's bbox and text."""
    photos = []
    for label_file in sorted(Path(labels).rglob('*.json')):
        document = json.loads(label_file.read_text(encoding='utf-8-sig'))
        for entry in document['images']:
            picture = open_image(Path(images) / entry['file_name'], rgb=True)
            if picture is None:
                continue
            boxes = [(a['text'], (a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]))
                     for a in document['annotations'] if a.get('image_id', entry['id']) == entry['id']
                     and a.get('text') not in (None, '', 'xxx')]
            photos.append(LabelledPhoto(entry['file_name'], picture, boxes))
    return photos


def synthetic_photos(count, seed, work):
    subprocess.run([sys.executable, str(REPO / 'synth_aihub.py'), '--data_type', 'signboard', '--count', str(count),
                    '--seed', str(seed), '--output', str(work), '--quiet'], check=True)
    return aihub_photos(work / 'images', work / 'labels')


def source_photos(sources, labels, photo_root):
    """real_dev's crops as boxes on their whole photos: SOURCES.tsv's `file repository path box [note]`
    lines, a note `rot=D` meaning the box is in the photo turned D degrees counter-clockwise."""
    texts = read_labels(labels)
    photos = {}
    for line in Path(sources).read_text(encoding='utf-8').splitlines()[1:]:
        fields = line.split('\t')
        name, repository, path, box = fields[:4]
        note = fields[4] if len(fields) > 4 else ''
        key = (repository, path, note.split()[0] if note.startswith('rot=') else '')
        if key not in photos:
            picture = open_image(Path(photo_root) / repository / path, rgb=True)
            if picture is None:
                sys.exit(f'error: {Path(photo_root) / repository / path} missing (fetch {repository} first)')
            if key[2]:
                picture = picture.rotate(float(key[2][4:]), expand=True, resample=3)
            photos[key] = LabelledPhoto(f'{repository}/{path}', picture)
        photos[key].boxes.append((texts[name], tuple(int(v) for v in box.split(','))))
    return list(photos.values())


def crop_photos(folder):
    """A labelled crop folder (FOLDER/images + FOLDER/labels.txt, `name label`) as photos of one word each."""
    folder = Path(folder)
    images = folder / 'images' if (folder / 'images').is_dir() else folder
    photos = []
    for name, label in read_labels(folder / 'labels.txt').items():
        picture = open_image(images / name, rgb=True)
        if picture is not None:
            photos.append(LabelledPhoto(name, picture, [(label, (0, 0, picture.width, picture.height))]))
    return photos


# ---------------------------------------------------------------- the readers

def centre(points):
    points = np.asarray(points, dtype=float)
    return points[:, 0].mean(), points[:, 1].mean()


def read_with_kocrnn(reader, detector, photos, split):
    tally = Tally()
    for photo in photos:
        start = time.perf_counter()
        found = reader.read_photo(photo.picture, split=split, detector=detector)
        tally.seconds += time.perf_counter() - start
        tally.photos += 1
        score_photo(photo, [(t.text, *centre(t.points)) for t in found], tally)
    return tally


def tesseract_words(picture):
    with tempfile.NamedTemporaryFile(suffix='.png') as handle:
        picture.save(handle.name)
        output = subprocess.run(['tesseract', handle.name, 'stdout', '-l', 'kor+eng', '--psm', '11', 'tsv'],
                                capture_output=True, text=True).stdout
    words = []
    for line in output.splitlines()[1:]:
        cells = line.split('\t')
        if len(cells) == 12 and cells[0] == '5' and cells[11].strip():
            left, top, width, height = map(int, cells[6:10])
            words.append((cells[11].strip(), left + width / 2, top + height / 2))
    return words


def read_with_tesseract(photos):
    tally = Tally()
    for photo in photos:
        start = time.perf_counter()
        words = tesseract_words(photo.picture)
        tally.seconds += time.perf_counter() - start
        tally.photos += 1
        score_photo(photo, words, tally)
    return tally


def speed_line(reader, detector, photos, side=1600):
    """Seconds for one photo (the largest given) scaled to `side` pixels, detection included (best of 3)."""
    largest = max(photos, key=lambda p: p.picture.width * p.picture.height).picture
    scale = side / max(largest.size)
    picture = largest.resize((round(largest.width * scale), round(largest.height * scale)))
    reader.read_photo(picture, detector=detector)  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        found = reader.read_photo(picture, detector=detector)
        times.append(time.perf_counter() - start)
    return f'{picture.width}x{picture.height} photo: {min(times):.2f} s ({1 / min(times):.2f} photos/s), {len(found)} texts'


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--synthetic', type=int, default=0, help='this many synthetic signboard photos')
    parser.add_argument('--seed', type=int, default=17)
    parser.add_argument('--aihub', nargs=2, metavar=('IMAGES', 'LABELS'), help='an AI Hub signboard-format set')
    parser.add_argument('--sources', help='a SOURCES.tsv naming crops on whole photos')
    parser.add_argument('--labels', help='the crops\' labels (`file label` lines)')
    parser.add_argument('--photo_root', help='where the photos SOURCES.tsv names lie, as <repository>/<path>')
    parser.add_argument('--crops', help='a folder of labelled word crops, each read as a photo')
    parser.add_argument('--saved_model', default=str(DEFAULT_MODEL))
    parser.add_argument('--splits', nargs='+', default=['auto', 'words', 'lines'])
    parser.add_argument('--tesseract', action='store_true')
    opt = parser.parse_args()
    print('CPU flags:', cpu_flags() or 'unknown')
    reader, detector = Recognizer.load(opt.saved_model), TextDetector()
    with tempfile.TemporaryDirectory() as temp:
        sets = []
        if opt.synthetic:
            sets.append((f'synthetic signboard photos ({opt.synthetic}, seed {opt.seed})', True,
                         synthetic_photos(opt.synthetic, opt.seed, Path(temp) / 'synthetic')))
        if opt.aihub:
            sets.append((f'AI Hub set {opt.aihub[1]}', True, aihub_photos(*opt.aihub)))
        if opt.sources:
            sets.append((f'photos of {opt.sources}', False, source_photos(opt.sources, opt.labels, opt.photo_root)))
        if opt.crops:
            sets.append((f'word crops of {opt.crops}, each as a photo', False, crop_photos(opt.crops)))
        if not sets:
            parser.error('give --synthetic N, --aihub IMAGES LABELS, --sources/--labels/--photo_root or --crops')
        for title, complete, photos in sets:
            print(f'\n{title}: {len(photos)} photos, {sum(len(p.boxes) for p in photos)} labelled words')
            for split in opt.splits:
                print(f'  kocrnn --split {split:5s}  {read_with_kocrnn(reader, detector, photos, split).row(complete)}')
            if opt.tesseract:
                print(f'  Tesseract --psm 11    {read_with_tesseract(photos).row(complete)}')
            print(f'  speed: {speed_line(reader, detector, photos)}')


if __name__ == '__main__':
    main()
