"""The numbered chain on synthetic AI Hub data: synth -> aihub_dataset -> get_images -> LMDB."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

import aihub_dataset
import get_images
import synth_aihub
from create_lmdb_dataset import createDataset

REPO = Path(__file__).resolve().parents[1]
FONTS = ['NanumGothic', 'UnDotum']


def run_script(*args):
    """A script run as a user runs it: returns (exit code, stderr)."""
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True)
    return result.returncode, result.stderr


@pytest.fixture(scope='module')
def signboard(tmp_path_factory):
    root = tmp_path_factory.mktemp('signboard')
    synth_aihub.main(['--data_type', 'signboard', '--count', '24', '--seed', '5', '--output', str(root),
                      '--fonts', *FONTS, '--quiet'])
    return root


def test_signboard_chain_counts_crops_and_split_by_photo(signboard, tmp_path):
    out = tmp_path / 'set'
    aihub_dataset.main(['--images', str(signboard / 'images'), '--labels', str(signboard / 'labels'),
                        '--output', str(out), '--seed', '3', '--quiet'])
    annotations = sum(len(json.loads(p.read_text(encoding='utf-8'))['annotations'])
                      for p in (signboard / 'labels').glob('*.json'))
    lines = {split: (out / f'gt_{split}.txt').read_text(encoding='utf-8').splitlines()
             for split in ('train', 'validation', 'test')}
    assert sum(len(v) for v in lines.values()) == annotations
    photos = {split: {line.split('\t')[0].split('/')[1].rsplit('_', 1)[0] for line in v} for split, v in lines.items()}
    assert not (photos['train'] & photos['validation']) and not (photos['train'] & photos['test'])
    assert not (photos['validation'] & photos['test'])
    assert len(photos['train']) == round(24 * 0.7)

    shutil.copytree(out, tmp_path / 'rerun_copy')
    aihub_dataset.main(['--images', str(signboard / 'images'), '--labels', str(signboard / 'labels'),
                        '--output', str(tmp_path / 'rerun'), '--seed', '3', '--quiet'])
    for split in ('train', 'validation', 'test'):
        assert (tmp_path / 'rerun' / f'gt_{split}.txt').read_bytes() == (out / f'gt_{split}.txt').read_bytes()

    get_images.main(['--images', str(signboard / 'images'), '--dataset_dir', str(out), '--workers', '2', '--quiet'])
    written, skipped = createDataset(out, out / 'gt_train.txt', tmp_path / 'lmdb')
    assert written == len(lines['train']) and not skipped


def test_each_crop_shows_the_box_that_was_drawn(signboard, tmp_path):
    """Crop, recognise nothing: compare each crop to the plate re-rendered from the JSON's own record."""
    from PIL import Image
    out = tmp_path / 'set'
    aihub_dataset.main(['--images', str(signboard / 'images'), '--labels', str(signboard / 'labels'),
                        '--output', str(out), '--split', '1', '0', '0', '--quiet'])
    get_images.main(['--images', str(signboard / 'images'), '--dataset_dir', str(out), '--workers', '1', '--quiet'])
    boxes = {}
    for label_file in (signboard / 'labels').glob('*.json'):
        document = json.loads(label_file.read_text(encoding='utf-8'))
        stem = Path(document['images'][0]['file_name']).stem
        for k, annotation in enumerate(document['annotations']):
            boxes[f'train/{stem}_{k:03d}.jpg'] = (annotation['text'], annotation['bbox'])
    for line in (out / 'gt_train.txt').read_text(encoding='utf-8').splitlines():
        name, label = line.split('\t')
        text, bbox = boxes[name]
        assert label == text
        with Image.open(out / name) as crop:
            assert crop.size == (bbox[2], bbox[3])


def test_get_images_resumes_and_keeps_existing(signboard, tmp_path):
    out = tmp_path / 'set'
    aihub_dataset.main(['--images', str(signboard / 'images'), '--labels', str(signboard / 'labels'),
                        '--output', str(out), '--quiet'])
    get_images.main(['--images', str(signboard / 'images'), '--dataset_dir', str(out), '--workers', '1', '--quiet'])
    first = sorted(out.rglob('*.jpg'))[0]
    first.write_bytes(b'marker')
    get_images.main(['--images', str(signboard / 'images'), '--dataset_dir', str(out), '--workers', '1', '--quiet'])
    assert first.read_bytes() == b'marker'
    get_images.main(['--images', str(signboard / 'images'), '--dataset_dir', str(out), '--workers', '1',
                     '--overwrite', '--quiet'])
    assert first.read_bytes() != b'marker'


def test_font_set_chain(tmp_path):
    root = tmp_path / 'font'
    synth_aihub.main(['--data_type', 'font', '--count', '40', '--output', str(root), '--fonts', *FONTS, '--quiet'])
    out = tmp_path / 'set'
    aihub_dataset.main(['--images', str(root / 'images'), '--labels', str(root / 'printed_data_info.json'),
                        '--output', str(out), '--quiet'])
    get_images.main(['--images', str(root / 'images'), '--dataset_dir', str(out), '--link', '--quiet'])
    counts = [len((out / f'gt_{s}.txt').read_text(encoding='utf-8').splitlines()) for s in ('train', 'validation', 'test')]
    assert counts == [28, 6, 6]
    name = (out / 'gt_test.txt').read_text(encoding='utf-8').split('\t')[0]
    assert (out / name).stat().st_nlink == 2  # hard link, not a copy


def test_bad_aihub_input_is_counted_per_reason(signboard, tmp_path):
    """A fixture with one of each bad input: every good annotation beside them survives."""
    labels = tmp_path / 'labels'
    shutil.copytree(signboard / 'labels', labels)
    images = tmp_path / 'images'
    shutil.copytree(signboard / 'images', images)
    good = sum(len(json.loads(p.read_text(encoding='utf-8'))['annotations']) for p in labels.glob('*.json'))
    (labels / 'broken.json').write_text('{"images": [', encoding='utf-8')
    bad = {'images': [{'id': 900, 'width': 100, 'height': 50, 'file_name': '간판_가로형간판_000001.jpg'},
                      {'id': 901, 'width': 100, 'height': 50, 'file_name': 'gone.jpg'}],
           'annoations': [  # the seed's misspelling is accepted
               {'id': 1, 'image_id': 900, 'text': 'xxx', 'bbox': [0, 0, 10, 10]},
               {'id': 2, 'image_id': 900, 'text': '', 'bbox': [0, 0, 10, 10]},
               {'id': 3, 'image_id': 900, 'text': '밖', 'bbox': [500, 500, 10, 10]},
               {'id': 4, 'image_id': 900, 'text': '영', 'bbox': [0, 0, 0, 10]},
               {'id': 5, 'image_id': 901, 'text': '없음', 'bbox': [0, 0, 10, 10]},
               {'id': 6, 'image_id': 999, 'text': '고아', 'bbox': [0, 0, 10, 10]},
               {'id': 7, 'image_id': 900, 'text': '😀표', 'bbox': [0, 0, 10, 10]},
               {'id': 8, 'image_id': 900, 'text': '좋음', 'bbox': [-5, -5, 30, 30]}]}
    (labels / 'bad.json').write_text(json.dumps(bad, ensure_ascii=False), encoding='utf-8')
    code, stderr = run_script('aihub_dataset.py', '--images', images, '--labels', labels, '--output',
                              tmp_path / 'out', '--character_file', REPO / 'korean_charset.txt')
    assert code == 0 and 'Traceback' not in stderr
    for expected in ['skipped 1: unparsable JSON file', 'skipped 1: unreadable placeholder', 'skipped 1: empty text',
                     'skipped 2: bbox outside the image or zero-sized', 'skipped 1: missing image',
                     'skipped 1: annotation names no image entry', 'skipped 1: characters outside the charset',
                     'broken.json']:
        assert expected in stderr
    written = sum(len((tmp_path / 'out' / f'gt_{s}.txt').read_text(encoding='utf-8').splitlines())
                  for s in ('train', 'validation', 'test'))
    assert written == good + 1  # the clipped (-5, -5) box is kept


def test_bad_gt_file_for_lmdb_is_counted(tmp_path, fonts):
    from conftest import render_words
    gt = render_words(tmp_path / 'imgs', ['가게', '사과', '학교'], fonts, 3)
    (tmp_path / 'imgs' / 'corrupt.png').write_bytes(b'\x89PNG broken')
    extra = ('no_separator_line\n'
             'corrupt.png\t깨짐\n'
             'missing.png\t없음\n'
             '../escape.png\t탈출\n'
             '/etc/passwd\t절대\n'
             'word_0000.png\t\n'
             'word_0000.png\t가게\n').encode() + b'bad\xff\xfe.png\t\xff\n'
    gt.write_bytes(b'\xef\xbb\xbf' + gt.read_bytes().replace(b'\n', b'\r\n') + extra)
    code, stderr = run_script('create_lmdb_dataset.py', '--inputPath', tmp_path / 'imgs', '--gtFile', gt,
                              '--outputPath', tmp_path / 'lmdb')
    assert code == 0 and 'Traceback' not in stderr
    for expected in ['Created dataset with 3 samples', 'skipped 1: no tab or space between path and label',
                     'skipped 1: corrupt image', 'skipped 1: missing image', 'skipped 2: path outside --inputPath',
                     'skipped 1: empty label', 'skipped 1: duplicate line', 'skipped 1: line is not UTF-8']:
        assert expected in stderr
    env = lmdb.open(str(tmp_path / 'lmdb'), readonly=True, lock=False)
    with env.begin() as txn:
        assert txn.get(b'num-samples') == b'3'
        assert txn.get(b'label-000000001').decode() == '가게'
    env.close()


def test_lmdb_without_num_samples_names_the_folder(tmp_path, charset):
    from dataset import LmdbDataset
    from utils import UserError
    env = lmdb.open(str(tmp_path / 'broken'), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b'label-000000001', '가'.encode())
    env.close()
    with pytest.raises(UserError, match=r'broken has no num-samples key'):
        LmdbDataset(tmp_path / 'broken', charset)
    env = lmdb.open(str(tmp_path / 'short'), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b'num-samples', b'5')
        txn.put(b'label-000000001', '가'.encode())
    env.close()
    with pytest.raises(UserError, match=r'short says num-samples=5 but label-000000005 is missing'):
        LmdbDataset(tmp_path / 'short', charset)


def test_get_images_counts_missing_corrupt_and_outside(tmp_path, fonts):
    from PIL import Image
    images = tmp_path / 'images'
    images.mkdir()
    Image.new('RGB', (100, 50), 'white').save(images / 'good.jpg')
    (images / 'corrupt.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    (tmp_path / 'sources_train.tsv').write_text(
        'train/good_000.jpg\tgood.jpg\t10,10,30,20\n'
        'train/good_001.jpg\tgood.jpg\t500,500,10,10\n'
        'train/corrupt_000.jpg\tcorrupt.jpg\t0,0,10,10\n'
        'train/gone_000.jpg\tgone.jpg\t0,0,10,10\n', encoding='utf-8')
    code, stderr = run_script('get_images.py', '--images', images, '--dataset_dir', tmp_path, '--workers', '1')
    assert code == 0 and 'Traceback' not in stderr
    for expected in ['written: 1', 'bbox outside the image: 1', 'corrupt image: 1', 'missing image: 1',
                     '3 of 4 images could not be placed']:
        assert expected in stderr
    with Image.open(tmp_path / 'train' / 'good_000.jpg') as crop:
        assert crop.size == (30, 20)


def test_lmdb_label_filter_counts_each_reason(tmp_path, charset):
    from dataset import LmdbDataset
    env = lmdb.open(str(tmp_path / 'mixed'), map_size=1 << 22)
    labels = ['학교', 'x' * 30, '학교😀', '', 'ＡＢ', 'Seoul 서울']
    with env.begin(write=True) as txn:
        for i, label in enumerate(labels, 1):
            txn.put(b'label-%09d' % i, label.encode())
            txn.put(b'image-%09d' % i, b'')
        txn.put(b'num-samples', str(len(labels)).encode())
    env.close()
    dataset = LmdbDataset(tmp_path / 'mixed', charset, batch_max_length=25)
    assert len(dataset) == 2  # 학교 and 'Seoul 서울' (mixed case kept: the charset has upper case)
    assert dataset.filtered == {'longer than batch_max_length=25': 1, 'characters outside the charset': 2,
                                'empty label': 1}
    assert 'characters outside the charset' in dataset.describe() and '😀' in dataset.describe()
    assert dataset[0] is None  # the empty image bytes: a counted skip at read time, not a crash
    unfiltered = LmdbDataset(tmp_path / 'mixed', charset, data_filtering_off=True)
    assert len(unfiltered) == 6
