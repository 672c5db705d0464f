"""AI Hub's releases as users download them (nested folders, zips with cp949 names, the printed set's
sub-folders, Text in the wild, OCR pages), made by synth_aihub.py --layout and run through steps 1
(aihub_dataset.py), 1-2 (get_images.py) and 2 (create_lmdb_dataset.py): every good box becomes a crop
with its label, every other one is counted by its reason."""
import errno
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aihub_dataset
import get_images
import synth_aihub
from create_lmdb_dataset import createDataset

REPO = Path(__file__).resolve().parents[1]
FONTS = ['NanumGothic', 'UnDotum']
SPLITS = ('train', 'validation', 'test')
NEW = '030.야외 실제 촬영 한글 이미지/01.데이터/1.Training'
TIW = '04.Text in the wild'


def run_script(*args, timeout=120):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                            timeout=timeout)
    return result.returncode, result.stderr


def synth(root, layout, count=8, seed=5):
    synth_aihub.main(['--layout', layout, '--count', str(count), '--seed', str(seed), '--output', str(root),
                      '--fonts', *FONTS, '--unreadable_rate', '0.15', '--quiet'])
    return root


@pytest.fixture(scope='module')
def made(tmp_path_factory):
    """One small synthetic instance of each layout (release-old and zip share their seed: same photos)."""
    cache = {}

    def get(layout):
        if layout not in cache:
            cache[layout] = synth(tmp_path_factory.mktemp(layout), layout)
        return cache[layout]
    return get


def chain(images, labels, out, *extra, workers=1):
    """Steps 1, 1-2 and 2; returns ({gt name: label}, stderr of step 1, {split: LMDB samples})."""
    code, stderr = run_script('aihub_dataset.py', '--images', *images, '--labels', *labels, '--output', out, *extra)
    assert code == 0 and 'Traceback' not in stderr, stderr
    get_images.main(['--images', *map(str, images), '--dataset_dir', str(out), '--workers', str(workers), '--quiet'])
    gt, lmdb_counts = {}, {}
    for split in SPLITS:
        lines = (out / f'gt_{split}.txt').read_text(encoding='utf-8').splitlines()
        gt.update(line.split('\t') for line in lines)
        written, skipped = createDataset(out, out / f'gt_{split}.txt', out / f'lmdb_{split}')
        assert written == len(lines) and not skipped
        lmdb_counts[split] = written
    return gt, stderr, lmdb_counts


def signboard_truth(label_files):
    """(good labels, xxx count) of signboard label JSON files."""
    texts = [a['text'] for f in label_files for a in json.loads(Path(f).read_text(encoding='utf-8'))['annotations']]
    return Counter(t for t in texts if t != 'xxx'), texts.count('xxx')


def assert_crops_match_boxes(out, gt, boxes):
    """Each gt line's crop exists and has the size of its box; boxes: {gt name without split: (w, h)}."""
    for name in gt:
        with Image.open(out / name) as crop:
            assert crop.size == boxes[name.split('/', 1)[1]]


def test_release_old_nested_folders_and_upper_case_jpg(made, tmp_path):
    root = made('release-old')
    on_disk = [p.name for p in root.rglob('*.JPG')]
    assert on_disk, 'the layout keeps some photos as .JPG while their JSON says .jpg'
    labels = sorted(root.glob('Training/[[]라벨[]]Training/1.간판/*/*/*.json'))
    assert len(labels) == 8
    good, unreadable = signboard_truth(labels)
    gt, stderr, _ = chain([root / 'Training'], [root / 'Training'], tmp_path / 'set')
    assert Counter(gt.values()) == good
    assert f'skipped {unreadable}: unreadable placeholder' in stderr
    assert 'missing image' not in stderr and 'photos: 8 named by the labels are found, 0 are not' in stderr
    boxes = {}
    for label in labels:
        document = json.loads(label.read_text(encoding='utf-8'))
        stem = Path(document['images'][0]['file_name']).stem
        kept = [a for a in document['annotations'] if a['text'] != 'xxx']
        boxes.update({f'{stem}_{k:03d}.jpg': tuple(a['bbox'][2:]) for k, a in enumerate(kept)})
    assert_crops_match_boxes(tmp_path / 'set', gt, boxes)


def test_release_new_layout(made, tmp_path):
    root = made('release-new')
    images, labels = root / NEW / '원천데이터_230216_add', root / NEW / '라벨링데이터_230216_add'
    good, unreadable = signboard_truth(labels.rglob('*.json'))
    gt, stderr, lmdb = chain([images], [labels], tmp_path / 'set')
    assert Counter(gt.values()) == good and sum(lmdb.values()) == sum(good.values())
    assert f'skipped {unreadable}: unreadable placeholder' in stderr


def test_zips_with_cp949_names_give_what_the_folders_give(made, tmp_path):
    zipped, folders = made('zip'), made('release-old')
    archives = sorted((zipped / 'Training').glob('*.zip'))
    assert len(archives) == 5 and not any(p.is_dir() for p in (zipped / 'Training').iterdir())
    with zipfile.ZipFile(archives[0]) as archive:
        info = archive.infolist()[0]
        assert not info.flag_bits & 0x800  # no UTF-8 flag: the name is cp949, as AI Hub's zips are
        assert '간판' in info.filename.encode('cp437').decode('cp949')
    photos = [p for p in archives if '[원천]' in p.name]
    label_zip = [p for p in archives if '[라벨]' in p.name]
    gt, stderr, _ = chain(photos, label_zip, tmp_path / 'zip', workers=2)  # zips sent to worker processes
    reference, _, _ = chain([folders / 'Training'], [folders / 'Training'], tmp_path / 'folders')
    assert gt == reference
    for name in gt:
        assert (tmp_path / 'zip' / name).read_bytes() == (tmp_path / 'folders' / name).read_bytes()
    source = (tmp_path / 'zip' / 'sources_train.tsv').read_text(encoding='utf-8').split('\t')[1]
    assert source.startswith('[원천]Training_간판_') and '.zip/간판_' in source  # <zip name>/<member>


def test_printed_set_with_sub_folders_and_string_ids(made, tmp_path):
    root = made('printed')
    document = json.loads((root / 'printed_data_info.json').read_text(encoding='utf-8'))
    assert document['images'][0]['id'] == '00000001' and '/' not in document['images'][0]['file_name']
    assert {p.parent.name for p in (root / 'images').rglob('*.png')} <= {'syllable', 'word', 'sentence'}
    gt, _, _ = chain([root / 'images'], [root / 'printed_data_info.json'], tmp_path / 'set')
    assert Counter(gt.values()) == Counter(a['text'] for a in document['annotations'])


def test_text_in_the_wild_reads_word_boxes_and_counts_the_rest(made, tmp_path):
    root = made('textinthewild')
    document = json.loads((root / TIW / 'textinthewild_data_info.json').read_text(encoding='utf-8'))
    classes = Counter(a['attributes']['class'] for a in document['annotations'])
    words = [a for a in document['annotations'] if a['attributes']['class'] == 'word']
    good = Counter(a['text'] for a in words if a['text'] != 'xxx')
    assert classes['character'] and classes['ignored'] == 8
    gt, stderr, _ = chain([root / TIW], [root / TIW / 'textinthewild_data_info.json'], tmp_path / 'set')
    assert Counter(gt.values()) == good
    assert 'textinthewild 1' in stderr
    assert f'skipped {classes["character"]}: character box' in stderr
    assert f'skipped {classes["ignored"]}: ignored box' in stderr
    assert f'skipped {len(words) - sum(good.values())}: unreadable placeholder' in stderr


def test_ocr_pages_crop_word_boxes_given_as_corners(made, tmp_path):
    root = made('ocr-print')
    pages = sorted((root / '1.Training' / 'Label').rglob('*.json'))
    words = [w for p in pages for w in json.loads(p.read_text(encoding='utf-8'))['text']['word']]
    good = Counter(w['value'] for w in words if w['value'] != 'xxx')
    gt, stderr, _ = chain([root / '1.Training' / 'Character'], [root / '1.Training' / 'Label'], tmp_path / 'set')
    assert Counter(gt.values()) == good and 'unparsable' not in stderr and 'ocr 8' in stderr
    boxes = {}
    for page in pages:
        document = json.loads(page.read_text(encoding='utf-8'))
        stem = Path(document['image']['file_name']).stem
        kept = [w['wordbox'] for w in document['text']['word'] if w['value'] != 'xxx']
        boxes.update({f'{stem}_{k:03d}.jpg': (x2 - x1, y2 - y1) for k, (x1, y1, x2, y2) in enumerate(kept)})
    assert_crops_match_boxes(tmp_path / 'set', gt, boxes)


def test_every_bad_input_of_a_release_is_counted_by_reason(made, tmp_path):
    """The release-old tree plus one of each flaw: good boxes beside them all land."""
    root = tmp_path / 'release'
    shutil.copytree(made('release-old') / 'Training', root)
    labels = sorted(root.rglob('*.json'))
    good, unreadable = signboard_truth(labels)
    photo_dir = next(root.glob('[[]원천[]]*'))
    # a label without its photo, a photo without its label
    lonely = json.loads(labels[0].read_text(encoding='utf-8'))
    lonely['images'][0]['file_name'] = '간판_가로형간판_999999.jpg'
    (labels[0].parent / 'lonely.json').write_text(json.dumps(lonely, ensure_ascii=False), encoding='utf-8')
    shutil.copy(next(photo_dir.glob('*')), photo_dir / 'no_label.jpg')
    # one photo name in two folders: ambiguous, never guessed
    twin = json.loads(labels[1].read_text(encoding='utf-8'))
    twin_name = twin['images'][0]['file_name']
    twin_photo = next(root.rglob(twin_name))
    (root / 'copy').mkdir()
    shutil.copy(twin_photo, root / 'copy' / twin_name)
    # a bbox holding null, annotations as an object, JSON of an unknown layout, broken JSON
    broken_box = json.loads(labels[2].read_text(encoding='utf-8'))
    spoiled = next(a for a in broken_box['annotations'] if a['text'] != 'xxx')
    spoiled['bbox'][1] = None
    labels[2].write_text(json.dumps(broken_box, ensure_ascii=False), encoding='utf-8')
    (root / 'object.json').write_text(json.dumps({'images': [], 'annotations': {'1': {}}}), encoding='utf-8')
    (root / 'other.json').write_text(json.dumps({'foo': 1, 'bar': [2]}), encoding='utf-8')
    (root / 'broken.json').write_text('{"images": [', encoding='utf-8')

    out = tmp_path / 'set'
    code, stderr = run_script('aihub_dataset.py', '--images', root, '--labels', root, '--output', out)
    assert code == 0 and 'Traceback' not in stderr, stderr
    twin_boxes = len(twin['annotations'])
    twin_unreadable = sum(a['text'] == 'xxx' for a in twin['annotations'])
    lonely_boxes = len(lonely['annotations'])
    for expected in [f'skipped {unreadable - twin_unreadable}: unreadable placeholder',
                     f'skipped {lonely_boxes}: missing image',
                     f'skipped {twin_boxes}: photo name found in several places (ambiguous, not guessed)',
                     'skipped 1: bbox is not 4 numbers (null, text or another length)',
                     'skipped 1: label file whose "annotations" is not a list',
                     'skipped 1: JSON of an unknown layout', 'other.json: JSON of an unknown layout (keys: bar, foo)',
                     'skipped 1: unparsable JSON file',
                     '1 are not (label without photo), 1 ambiguous; 1 photos under --images have no label',
                     f'ambiguous photo name {twin_name}']:
        assert expected in stderr, expected
    gt = {}
    for split in SPLITS:
        gt.update(line.split('\t') for line in (out / f'gt_{split}.txt').read_text(encoding='utf-8').splitlines())
    twin_texts = Counter(a['text'] for a in twin['annotations'] if a['text'] != 'xxx')
    assert Counter(gt.values()) == good - twin_texts - Counter([spoiled['text']])


def test_zip_with_utf8_names_and_mixed_sources(tmp_path):
    """Python's own zips flag UTF-8 names; a folder and a zip given together are both searched."""
    Image.new('RGB', (80, 40), 'white').save(tmp_path / 'a.jpg')
    Image.new('RGB', (80, 40), 'black').save(tmp_path / 'b.jpg')
    with zipfile.ZipFile(tmp_path / '사진.zip', 'w') as archive:
        archive.write(tmp_path / 'a.jpg', '폴더/흰색.jpg')
    (tmp_path / 'folder').mkdir()
    shutil.move(tmp_path / 'b.jpg', tmp_path / 'folder' / '검정.jpg')
    labels = tmp_path / 'labels'
    labels.mkdir()
    (labels / 'x.json').write_text(json.dumps({
        'images': [{'id': 1, 'file_name': '흰색.jpg', 'width': 80, 'height': 40},
                   {'id': 2, 'file_name': '검정.jpg', 'width': 80, 'height': 40}],
        'annotations': [{'image_id': 1, 'text': '흰색', 'bbox': [0, 0, 40, 20]},
                        {'image_id': 2, 'text': '검정', 'bbox': [0, 0, 40, 20]}]}, ensure_ascii=False), encoding='utf-8')
    out = tmp_path / 'set'
    images = [tmp_path / '사진.zip', tmp_path / 'folder']
    gt, _, _ = chain(images, [labels], out, '--split', '1', '0', '0')
    shades = {label: np.asarray(Image.open(out / name).convert('L')).mean() for name, label in gt.items()}
    assert shades['흰색'] > 200 and shades['검정'] < 50


def test_link_across_file_systems_copies(made, tmp_path, monkeypatch):
    root = made('printed')
    out = tmp_path / 'set'
    aihub_dataset.main(['--images', str(root / 'images'), '--labels', str(root / 'printed_data_info.json'),
                        '--output', str(out), '--quiet'])

    def cross_device(source, target):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
    monkeypatch.setattr(get_images.os, 'link', cross_device)
    get_images.claim_output_folder(out / 'train', 'get_images.py')  # as main() does before placing
    outcomes = get_images.place_source(
        get_images.group_by_source(get_images.read_sources(out, 'train', Counter()))[0],
        photos=get_images.PhotoStore([root / 'images']), dataset_dir=out, link=True, overwrite=False,
        rotate_vertical=False)
    assert outcomes == [get_images.COPIED_NOT_LINKED]
    get_images.main(['--images', str(root / 'images'), '--dataset_dir', str(out), '--link', '--workers', '1',
                     '--quiet'])
    names = [line.split('\t')[0] for s in SPLITS for line in (out / f'gt_{s}.txt').read_text(encoding='utf-8').splitlines()]
    assert all((out / name).stat().st_nlink == 1 and Image.open(out / name).size for name in names)


def test_synth_never_writes_over_a_users_files(tmp_path):
    user = tmp_path / 'kor_dataset' / 'aihub_data' / 'signboard'
    (user / 'images').mkdir(parents=True)
    (user / 'images' / '간판_가로형간판_000001.jpg').write_bytes(b'my photo')
    (user / 'gt_train.txt').write_text('train/x.jpg\t내 라벨\n', encoding='utf-8')
    before = {p: p.read_bytes() for p in user.rglob('*') if p.is_file()}
    code, stderr = run_script('synth_aihub.py', '--data_type', 'signboard', '--count', '2', '--output', user)
    assert code == 2 and 'already holds files' in stderr and 'Traceback' not in stderr
    result = subprocess.run(['bash', 'scripts/quickstart.sh', str(tmp_path / 'kor_dataset')], cwd=REPO,
                            capture_output=True, text=True, timeout=120, env={**os.environ, 'PYTHON': sys.executable})
    assert result.returncode == 2 and 'already holds files' in result.stderr
    assert {p: p.read_bytes() for p in user.rglob('*') if p.is_file()} == before
    (tmp_path / 'font').mkdir()
    (tmp_path / 'font' / 'printed_data_info.json').write_text('{"mine": 1}', encoding='utf-8')
    code, stderr = run_script('synth_aihub.py', '--layout', 'printed', '--count', '2', '--output', tmp_path / 'font')
    assert code == 2 and (tmp_path / 'font' / 'printed_data_info.json').read_text() == '{"mine": 1}'


def test_synth_refuses_a_fifo_word_list_and_a_huge_count(tmp_path):
    os.mkfifo(tmp_path / 'words')
    code, stderr = run_script('synth_aihub.py', '--data_type', 'font', '--count', '2', '--output', tmp_path / 'out',
                              '--word_list', tmp_path / 'words', timeout=60)
    assert code == 2 and 'FIFO' in stderr and 'Traceback' not in stderr
    code, stderr = run_script('synth_aihub.py', '--data_type', 'font', '--count', str(10 ** 15), '--workers', '2',
                              '--output', tmp_path / 'big', timeout=60)
    assert code == 2 and 'at most 10,000,000' in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'big').exists()
