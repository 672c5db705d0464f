"""aihub_dataset.py on 200,000 annotations (a signboard-style label set made by the generator's writer;
the gt step only checks that images exist, so they are empty files here) and get_images.py crops/s on
rendered signboard photos. Prints its figures; asserts nothing.

    python3 bench/bench_preprocess.py [--annotations 200000] [--photos 60]
"""
import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aihub_dataset  # noqa: E402
import get_images  # noqa: E402
import synth_aihub  # noqa: E402
from synth.words import TextSampler  # noqa: E402
from charset import load_charset  # noqa: E402


def fake_signboard_records(count, boxes_per_photo=4, seed=0):
    rng = random.Random(seed)
    sampler = TextSampler(load_charset())
    records = []
    for i in range(count // boxes_per_photo):
        boxes = [{'text': sampler.sample(rng), 'bbox': [rng.randint(0, 600), rng.randint(0, 500), 120, 40]}
                 for _ in range(boxes_per_photo)]
        records.append({'file_name': f'간판_가로형간판_{i + 1:06d}.jpg', 'width': 800, 'height': 600, 'boxes': boxes})
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--annotations', type=int, default=200000)
    parser.add_argument('--photos', type=int, default=60)
    parser.add_argument('--workers', type=int, default=2)
    opt = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        records = fake_signboard_records(opt.annotations)
        synth_aihub.write_signboard_labels(records, work / 'big')
        (work / 'big' / 'images').mkdir()
        for record in records:
            (work / 'big' / 'images' / record['file_name']).touch()
        start = time.perf_counter()
        aihub_dataset.main(['--images', str(work / 'big' / 'images'), '--labels', str(work / 'big' / 'labels'),
                            '--output', str(work / 'big'), '--quiet'])
        gt_seconds = time.perf_counter() - start
        print(f'aihub_dataset.py: {opt.annotations} annotations in {len(records)} label JSON files: '
              f'{gt_seconds:.1f} s ({opt.annotations / gt_seconds:,.0f} annotations/s)')

        synth_aihub.main(['--data_type', 'signboard', '--count', str(opt.photos), '--output', str(work / 'sign'),
                          '--workers', str(opt.workers), '--quiet'])
        aihub_dataset.main(['--images', str(work / 'sign' / 'images'), '--labels', str(work / 'sign' / 'labels'),
                            '--output', str(work / 'sign'), '--quiet'])
        crops = sum(len((work / 'sign' / f'sources_{s}.tsv').read_text(encoding='utf-8').splitlines())
                    for s in ('train', 'validation', 'test'))
        start = time.perf_counter()
        get_images.main(['--images', str(work / 'sign' / 'images'), '--dataset_dir', str(work / 'sign'),
                         '--workers', str(opt.workers), '--quiet'])
        crop_seconds = time.perf_counter() - start
        print(f'get_images.py: {crops} crops from {opt.photos} photos in {crop_seconds:.2f} s '
              f'({crops / crop_seconds:,.0f} crops/s, {opt.workers} workers)')


if __name__ == '__main__':
    main()
