"""Step 6, beside demo.py: read whole photographs: find the text (PP-OCR's detector, bundled with RapidOCR), read it
(the shipped Korean model), write one AI Hub signboard label JSON per photo and an HTML report.

    python3 read_photos.py --image_folder photos/ --output photos_read/

OUT/labels/<photo stem>.json holds {"images": [{"id", "width", "height", "file_name"}], "annotations":
[{"id", "image_id", "text", "bbox": [x, y, w, h], "points": 4 [x, y] corners, "confidence"}]}, the
format aihub_dataset.py reads (pre-label photos, correct the JSON, train on them). OUT/report.html
shows each photo with its boxes drawn and the texts read beside them. A photo that is one word
filling the frame is read whole. Label files already in OUT are kept (--overwrite to read those
photos again): a JSON someone corrected is never replaced unasked.
"""
import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from cli import ArgumentParser, output_folder, positive_int, unit_interval
from dataset import list_images
from decoding import add_decoding_arguments, decoding_from_args
from detection import TextDetector
from images import open_image
from options import add_model_arguments
from photo_reading import SPLITS
from precision import add_amp_arguments
from recognizer import DEFAULT_MODEL, Recognizer
from report import is_photo_report, render_photo, write_photo_report
from utils import UserError, atomic_write_bytes, run_main, setup_logging


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--image_folder', required=True, help='folder of photos (and/or word crops) to read')
    parser.add_argument('--output', type=output_folder, required=True, help='where labels/ and report.html go')
    parser.add_argument('--saved_model', default=str(DEFAULT_MODEL), help='recogniser checkpoint (default: the shipped model)')
    parser.add_argument('--onnx', default=None, help='recognise with this export_onnx.py model in ONNX Runtime')
    parser.add_argument('--split', choices=SPLITS, default='auto',
                        help='auto: cut lines wider than the recogniser reads into words at their ink gaps; '
                             'words: cut every line; lines: read lines whole')
    parser.add_argument('--box_threshold', type=unit_interval, default=0.5, help="the detector's minimum region score")
    parser.add_argument('--max_side', type=positive_int, default=2000, help='photos are detected at most this large')
    parser.add_argument('--overwrite', action='store_true', help='read photos whose label JSON is already in --output')
    parser.add_argument('--no_report', action='store_true', help='skip report.html')
    parser.add_argument('--threads', type=positive_int, default=None, help='ONNX Runtime threads (default: all cores)')
    add_decoding_arguments(parser)
    add_amp_arguments(parser)
    parser.add_argument('--quiet', action='store_true')
    add_model_arguments(parser)
    return parser.parse_args(argv)


def label_names(relative_paths):
    """{photo: its label JSON's path under labels/}: <stem>.json beside the photo's own sub-folder, or
    <name>.json when two photos of a folder share a stem (c.jpg, c.png)."""
    stems = Counter(path.with_suffix('').as_posix().casefold() for path in relative_paths)
    return {path: path.with_suffix('.json') if stems[path.with_suffix('').as_posix().casefold()] == 1
            else path.with_name(path.name + '.json') for path in relative_paths}


def label_document(file_name, size, found):
    """The AI Hub signboard label JSON of one photo."""
    width, height = size
    annotations = []
    for number, text in enumerate(found, 1):
        points = np.clip(np.rint(text.points), 0, [width, height]).astype(int)
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        annotations.append({'id': number, 'image_id': 1, 'text': text.text,
                            'bbox': [int(x0), int(y0), max(1, int(x1 - x0)), max(1, int(y1 - y0))],
                            'points': points.tolist(),
                            'confidence': round(text.confidence, 4)})
    return {'images': [{'id': 1, 'width': width, 'height': height, 'file_name': file_name}],
            'annotations': annotations}


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    output = Path(opt.output)
    report_path = output / 'report.html'
    if not opt.no_report and report_path.exists() and not is_photo_report(report_path):
        raise UserError(f'{report_path} exists and is not a read_photos.py report: give another --output or --no_report')
    photos = [path.relative_to(opt.image_folder) for path in list_images(opt.image_folder)]
    if not photos:
        raise UserError(f'no image in {opt.image_folder}')
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    reader = Recognizer.load(opt.onnx or opt.saved_model, options=opt, decoding=decoding_from_args(opt),
                             amp=opt.amp, device=device, threads=opt.threads)
    detector = TextDetector(box_threshold=opt.box_threshold, max_side=opt.max_side)
    labels = label_names(photos)
    counts, sections, start = Counter(), [], time.perf_counter()
    for photo in tqdm(photos, desc='photos', unit='photo', disable=True if opt.quiet else None):
        label_path = output / 'labels' / labels[photo]
        if label_path.exists() and not opt.overwrite:
            counts['kept (label JSON already there)'] += 1
            continue
        picture = open_image(Path(opt.image_folder) / photo, rgb=True)
        if picture is None:
            counts['unreadable'] += 1
            log.warning('%s: not a readable image, skipped', photo)
            continue
        found = reader.read_photo(picture, split=opt.split, detector=detector)
        document = label_document(photo.as_posix(), picture.size, found)
        atomic_write_bytes(json.dumps(document, ensure_ascii=False, indent=1).encode('utf-8'), label_path)
        counts['read'] += 1
        counts['texts'] += len(found)
        if not opt.no_report:
            sections.append(render_photo(photo.as_posix(), picture, found))
    seconds = time.perf_counter() - start
    if not opt.no_report and sections:
        totals = [('photos read', counts['read']), ('texts', counts['texts']),
                  ('photos/s', f'{counts["read"] / max(seconds, 1e-9):.2f}')]
        write_photo_report(sections, report_path, f'kocrnn: {opt.image_folder}', totals)
        log.info('HTML report written to %s', report_path)
    skipped = {reason: n for reason, n in counts.items() if reason not in ('read', 'texts')}
    log.info('%d photo(s) read, %d text(s) found, in %.1f s (%.2f photos/s, %s); label JSON in %s%s',
             counts['read'], counts['texts'], seconds, counts['read'] / max(seconds, 1e-9), reader.decoding,
             output / 'labels', ''.join(f'; {reason}: {n}' for reason, n in skipped.items()))
    if counts['kept (label JSON already there)']:
        log.info('photos whose label JSON was already in %s were not read again (--overwrite reads them)', output)


if __name__ == '__main__':
    run_main(main)
