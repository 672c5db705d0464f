"""Hostile input, one test per class of harm: writing outside a folder, deleting data, losing a run,
hanging, and silently wrong results. Each failed before its fix."""
import io
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import lmdb
import numpy as np
import pytest
from PIL import Image

import aihub_dataset
import demo
import get_images
import train
from conftest import SMALL_MODEL, WORDS, render_words, train_args
from create_lmdb_dataset import createDataset
from images import open_image
from utils import UserError

REPO = Path(__file__).resolve().parents[1]


def tree(root):
    """{relative path: bytes} of every file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in Path(root).rglob('*') if p.is_file()}


def signboard_json(path, images, annotations):
    path.write_text(json.dumps({'images': images, 'annotations': annotations}, ensure_ascii=False), encoding='utf-8')


def photo(path, size=(120, 60), color=(200, 200, 200)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size, color).save(path)


# ---------------------------------------------------------------- 1. writing outside the dataset folder

def test_names_with_line_breaks_or_absolute_paths_never_leave_the_folder(tmp_path):
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'victim.jpg').write_bytes(b'keep me')
    images = tmp_path / 'images'
    evil = f'x.jpg\n{outside}/victim.jpg'
    photo(images / 'good.jpg')
    photo(images / 'x.jpg')
    photo(images / f'x.jpg\n{outside}'.replace('//', '/') / 'victim.jpg')  # the folders the name walks through
    labels = tmp_path / 'labels'
    labels.mkdir()
    boxes = [{'id': 1, 'image_id': 1, 'text': '서울', 'bbox': [0, 0, 50, 30]},
             {'id': 2, 'image_id': 2, 'text': '부산', 'bbox': [0, 0, 50, 30]},
             {'id': 3, 'image_id': 3, 'text': '대구', 'bbox': [0, 0, 50, 30]}]
    signboard_json(labels / 'a.json', [{'id': 1, 'file_name': 'good.jpg', 'width': 120, 'height': 60},
                                       {'id': 2, 'file_name': evil, 'width': 120, 'height': 60},
                                       {'id': 3, 'file_name': str(outside / 'victim.jpg'), 'width': 9, 'height': 9}],
                   boxes)
    out = tmp_path / 'set'
    aihub_dataset.main(['--data_type', 'signboard', '--images', str(images), '--labels', str(labels),
                        '--output', str(out), '--split', '1', '0', '0', '--quiet'])
    sources = (out / 'sources_train.tsv').read_text(encoding='utf-8')
    assert sources.count('\n') == 1 and 'good.jpg' in sources
    # a hand-edited sources file with the same tricks (absolute, .., U+2028, \r) is refused line by line
    (out / 'sources_train.tsv').write_text(
        sources + f'{outside}/victim.jpg\tgood.jpg\t0,0,10,10\n' + '../outside/victim.jpg\tgood.jpg\t0,0,10,10\n'
        + f'train/a\u2028{outside}/victim.jpg\tgood.jpg\t0,0,10,10\n' + f'train/b.jpg\r{outside}/v.jpg\tgood.jpg\t\n',
        encoding='utf-8')
    before = tree(outside)
    get_images.main(['--images', str(images), '--dataset_dir', str(out), '--workers', '1', '--overwrite', '--quiet'])
    assert tree(outside) == before
    assert sorted(p.name for p in (out / 'train').iterdir()) == [get_images.OWNER_MARK, 'good_000.jpg']


# ---------------------------------------------------------------- 2. deleting the user's data

def test_lmdb_output_never_removes_what_the_project_did_not_make(tmp_path, fonts):
    gt = render_words(tmp_path / 'data', WORDS[:4], fonts, 4)
    data_before = tree(tmp_path / 'data')
    for output in (tmp_path / 'data', tmp_path):  # the input folder, a folder above it
        with pytest.raises(UserError, match='holds --inputPath'):
            createDataset(tmp_path / 'data', gt, output)
    (tmp_path / 'lmdb' / 'train').mkdir(parents=True)
    (tmp_path / 'lmdb' / 'notes.txt').write_text('mine')
    with pytest.raises(UserError, match='other than an LMDB'):
        createDataset(tmp_path / 'data', gt, tmp_path / 'lmdb')
    assert tree(tmp_path / 'data') == data_before and (tmp_path / 'lmdb' / 'notes.txt').exists()
    assert createDataset(tmp_path / 'data', gt, tmp_path / 'lmdb' / 'train')[0] == 4
    assert createDataset(tmp_path / 'data', gt, tmp_path / 'lmdb' / 'train')[0] == 4  # its own LMDB is replaced


# ---------------------------------------------------------------- 3. losing a run

def test_resume_from_an_older_checkpoint_in_place_is_refused(word_lmdb, tmp_path):
    run = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--adam', '--num_iter', '6', '--valInterval',
                                '3', '--exp_name', 'r'))
    last = (run / 'last.pth').read_bytes()
    with pytest.raises(UserError, match='newer than'):
        train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(run / 'best_accuracy.pth'),
                              '--num_iter', '12'))
    assert (run / 'last.pth').read_bytes() == last
    branched = train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(run / 'best_accuracy.pth'),
                                     '--num_iter', '8', '--exp_name', 'branch'))
    assert branched != run and (branched / 'last.pth').exists()
    holder = train.RunLock(run)  # a second train.py on a folder in use stops at once
    try:
        with pytest.raises(UserError, match='in use'):
            train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(run / 'last.pth'), '--num_iter', '12'))
    finally:
        holder.release()
    assert (run / 'last.pth').read_bytes() == last


# ---------------------------------------------------------------- 4. hangs

def test_training_on_unreadable_images_stops_with_an_error(tmp_path):
    (tmp_path / 'bad' / 'train').mkdir(parents=True)
    env = lmdb.open(str(tmp_path / 'bad' / 'train'), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(1, 41):
            txn.put(b'image-%09d' % i, b'not an image')
            txn.put(b'label-%09d' % i, WORDS[i % len(WORDS)].encode())
        txn.put(b'num-samples', b'40')
    env.close()
    command = [sys.executable, 'train.py', '--train_data', str(tmp_path / 'bad'), '--valid_data',
               str(tmp_path / 'bad'), '--saved_folder', str(tmp_path / 'runs'), '--num_iter', '5', '--batch_size',
               '8', '--workers', '0', *SMALL_MODEL, '--quiet']
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and 'no readable image' in result.stderr and 'Traceback' not in result.stderr


def test_gt_line_naming_a_fifo_is_skipped_not_waited_on(tmp_path, fonts):
    gt = render_words(tmp_path / 'data', WORDS[:3], fonts, 3)
    os.mkfifo(tmp_path / 'data' / 'pipe.png')
    with open(gt, 'a', encoding='utf-8') as handle:
        handle.write('pipe.png\t파이프\n')
    command = [sys.executable, 'create_lmdb_dataset.py', '--inputPath', str(tmp_path / 'data'), '--gtFile', str(gt),
               '--outputPath', str(tmp_path / 'lmdb')]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and 'skipped 1: not a regular file' in result.stderr


# ---------------------------------------------------------------- 5. silently wrong results

def encoded(image, fmt='PNG', **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_images_open_upright_scaled_and_on_white():
    sideways = Image.new('RGB', (40, 100), 'white')
    exif = sideways.getexif()
    exif[0x0112] = 6  # stored rotated: a viewer turns it 90 degrees clockwise
    assert open_image(encoded(sideways, 'JPEG', exif=exif.tobytes())).size == (100, 40)
    gray16 = Image.fromarray(np.full((8, 8), 32768, np.uint16))
    assert 120 < np.asarray(open_image(encoded(gray16))).mean() < 135  # mid-grey, not white
    transparent = Image.new('RGBA', (8, 8), (0, 0, 0, 0))
    assert np.asarray(open_image(encoded(transparent))).min() == 255  # on white, not black
    palette = Image.new('P', (8, 8), 0)
    palette.putpalette([10, 20, 30] * 256)
    palette.info['transparency'] = 0
    assert np.asarray(open_image(encoded(palette), rgb=True)).min() == 255


@pytest.mark.parametrize('mode', ['1', 'L', 'LA', 'P', 'RGB', 'RGBA', 'CMYK', 'YCbCr', 'I', 'I;16', 'F', 'LAB', 'HSV'])
def test_every_pil_mode_opens_as_l_and_rgb(mode):
    image = Image.new(mode, (16, 8))
    for fmt in ('PNG', 'TIFF', 'JPEG', 'WEBP', 'BMP'):
        try:
            data = encoded(image, fmt)
        except (OSError, ValueError, KeyError):
            continue  # this format cannot store this mode
        assert open_image(data).mode == 'L' and open_image(data, rgb=True).mode == 'RGB'
        assert open_image(data).size == (16, 8)
    assert open_image(b'') is None and open_image(encoded(image.convert('RGB'), 'PNG')[:40]) is None


def test_demo_labels_by_exact_path_never_borrowed(trained_run, tmp_path, fonts):
    folder = tmp_path / 'imgs'
    for sub in ('sub1', 'sub2'):
        render_words(folder / sub, ['학교'], fonts, 1)
        (folder / sub / 'gt.txt').unlink()
        os.rename(folder / sub / 'word_0000.png', folder / sub / 'x.png')
    render_words(folder, ['바다'], fonts, 1)
    (folder / 'gt.txt').unlink()
    os.rename(folder / 'word_0000.png', folder / 'y.png')
    gt = tmp_path / 'gt.txt'
    gt.write_text('sub1/x.png\t학교\ny.jpg\t바다\n', encoding='utf-8')
    log = tmp_path / 'log.txt'
    demo.main(['--image_folder', str(folder), '--saved_model', str(trained_run / 'best_accuracy.pth'),
               '--label_test', str(gt), '--log_filename', str(log), '--workers', '0', '--quiet'])
    rows = {line.split('\t')[0].strip(): line.split('\t')[1].strip() for line in log.read_text().splitlines()[1:-1]}
    assert rows == {'sub1/x.png': '학교', 'sub2/x.png': '-', 'y.png': '-'}


def test_aihub_names_labels_and_ids_are_never_mixed_up(tmp_path):
    images = tmp_path / 'images'
    photo(images / 'c.jpg', color=(255, 255, 255))
    photo(images / 'c.png', color=(0, 0, 0))
    photo(images / unicodedata.normalize('NFD', '간판.jpg'))  # unpacked on macOS
    photo(images / 'd.jpg')
    labels = tmp_path / 'labels'
    labels.mkdir()
    box = [0, 0, 50, 30]
    signboard_json(labels / 'a.json', [{'id': 1, 'file_name': 'c.jpg'}, {'id': 2, 'file_name': 'c.png'},
                                       {'id': 3, 'file_name': '간판.jpg'}, {'id': 4, 'file_name': 'd.jpg'},
                                       {'id': 4, 'file_name': 'c.jpg'}],
                   [{'image_id': 1, 'text': '흰색', 'bbox': box}, {'image_id': 2, 'text': '검정', 'bbox': box},
                    {'image_id': 3, 'text': '간판', 'bbox': box}, {'image_id': 4, 'text': '어느 쪽', 'bbox': box},
                    {'image_id': 3, 'text': '두\n줄', 'bbox': box}])
    out = tmp_path / 'set'
    aihub_dataset.main(['--data_type', 'signboard', '--images', str(images), '--labels', str(labels),
                        '--output', str(out), '--split', '1', '0', '0', '--quiet'])
    gt = dict(line.split('\t') for line in (out / 'gt_train.txt').read_text(encoding='utf-8').splitlines())
    assert sorted(gt.values()) == ['간판', '검정', '흰색']  # no label of the duplicated id 4, none cut at '\n'
    get_images.main(['--images', str(images), '--dataset_dir', str(out), '--workers', '1', '--quiet'])
    by_label = {label: np.asarray(Image.open(out / name).convert('L')).mean() for name, label in gt.items()}
    assert by_label['흰색'] > 200 and by_label['검정'] < 50


def test_damaged_lmdb_labels_are_counted_at_test_time(trained_run, tmp_path, fonts):
    gt = render_words(tmp_path / 'data', WORDS[:4], fonts, 4)
    createDataset(tmp_path / 'data', gt, tmp_path / 'lmdb')
    env = lmdb.open(str(tmp_path / 'lmdb'), map_size=1 << 26)
    with env.begin(write=True) as txn:
        image = txn.get(b'image-000000001')
        txn.put(b'image-000000005', image)
        txn.put(b'label-000000005', b'\xff\xfe not UTF-8')
        txn.put(b'image-000000006', image)  # its label key is missing
        txn.put(b'image-000000007', image)
        txn.put(b'label-000000007', ('학교' * 20).encode())  # longer than batch_max_length
        txn.put(b'image-000000008', image)
        txn.put(b'label-000000008', '학교'.encode())
        txn.put(b'num-samples', b'8')
    env.close()
    for extra, used in (([], '5 used'), (['--data_filtering_off'], '8 used')):
        result = subprocess.run([sys.executable, 'test.py', '--eval_data', str(tmp_path / 'lmdb'), '--saved_model',
                                 str(trained_run / 'best_accuracy.pth'), '--workers', '0', '--result_folder',
                                 str(tmp_path / 'result'), *extra], cwd=REPO, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0 and 'Traceback' not in result.stderr, result.stderr
        assert used in result.stderr


def test_onnx_with_broken_metadata_is_one_line(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from onnx_recognizer import OnnxModel
    graph = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'g',
                              [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)])
    model.ir_version = 9
    for config in ('not json', '[1, 2]', '{"Prediction": "CTC"}'):
        del model.metadata_props[:]
        helper.set_model_props(model, {'kocrnn.config': config, 'kocrnn.character': 'ab'})
        onnx.save(model, tmp_path / 'm.onnx')
        with pytest.raises(UserError, match='broken kocrnn metadata'):
            OnnxModel(tmp_path / 'm.onnx')
