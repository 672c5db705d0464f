"""Generated hostile input for each script's front door (hypothesis). The property everywhere: the script
ends with exit status 0 or 2 (a one-line error), never a traceback; nothing is written outside its output
folder; no input file is changed or removed; every good sample beside the bad ones still lands.

`pytest tests/test_fuzz.py --hypothesis-show-statistics` prints how many cases each property saw.
"""
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

import aihub_dataset
import create_lmdb_dataset
import demo
import get_images
import synth_aihub
import test as test_script
import train
from images import open_image
from utils import UserError

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
GOOD_LABEL = '좋은 예'


def exit_status(main, argv):
    """What a user would see: 0, or 2 for a UserError / argparse error; anything else propagates."""
    try:
        main(argv)
    except UserError:
        return 2
    except SystemExit as exit_:
        return exit_.code
    return 0


def snapshot(root, leave_out=None):
    """{path: (size, mtime, bytes)} of every file under root, except under leave_out."""
    files = {}
    for path in Path(root).rglob('*'):
        if leave_out and (path == leave_out or leave_out in path.parents):
            continue
        if path.is_file() and not path.is_symlink():
            files[path] = path.read_bytes()
    return files


# ---------------------------------------------------------------- strategies

NASTY_TEXT = st.text(alphabet=st.characters(codec='utf-8'), max_size=12) | st.sampled_from(
    ['', ' ', '\n', '../x.jpg', '/etc/passwd', 'a\nb.jpg', 'a\rb', 'x\u2028y', 'x\x85y', 'a\x00b', '\t', 'C:\\x.jpg',
     'photo.jpg', 'photo.jpg\n/tmp/x.jpg', '..', '.', 'sub/../../x', 'xxx', '좋은'])
NUMBERS = (st.integers(-10 ** 30, 10 ** 30) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([0, 1, 10, 50, 1e308]))
ANY_JSON = st.recursive(st.none() | st.booleans() | NUMBERS | NASTY_TEXT,
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NASTY_TEXT, inner, max_size=4),
                        max_leaves=8)
IDS = st.integers(0, 3) | st.sampled_from(['1', '2', 1.0, None, True, [1]]) | ANY_JSON
BBOX = st.lists(NUMBERS | NASTY_TEXT, min_size=0, max_size=5) | ANY_JSON


@st.composite
def aihub_documents(draw):
    images = draw(st.lists(st.fixed_dictionaries(
        {'id': IDS, 'file_name': NASTY_TEXT | ANY_JSON, 'width': NUMBERS | ANY_JSON, 'height': NUMBERS | ANY_JSON}),
        max_size=4))
    annotations = draw(st.lists(st.fixed_dictionaries(
        {'image_id': IDS, 'text': NASTY_TEXT | ANY_JSON, 'bbox': BBOX}), max_size=6))
    document = draw(st.sampled_from(['dict', 'list', 'junk']))
    if document == 'list':
        return json.dumps([images, annotations])
    if document == 'junk':
        return draw(st.sampled_from(['{', '', 'null', '{"images": 3}', '\ufeff{}', '{"images": [], "annotations": 5}']))
    return json.dumps({'images': images, 'annotations': annotations}, ensure_ascii=draw(st.booleans()))


def write_good_photo(images):
    Image.new('RGB', (80, 40), 'white').save(images / 'photo.jpg')
    (images / 'good.json').write_text(json.dumps({
        'images': [{'id': 'good', 'file_name': 'photo.jpg', 'width': 80, 'height': 40}],
        'annotations': [{'image_id': 'good', 'text': GOOD_LABEL, 'bbox': [5, 5, 40, 20]}]}), encoding='utf-8')


@FUZZ
@given(documents=st.lists(aihub_documents(), min_size=1, max_size=3), data_type=st.sampled_from(['signboard', None]))
def test_aihub_json_chain(documents, data_type):
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        images, labels, out = work / 'in' / 'images', work / 'in' / 'labels', work / 'out'
        images.mkdir(parents=True)
        labels.mkdir()
        write_good_photo(images)
        (images / 'good.json').rename(labels / 'good.json')
        for i, text in enumerate(documents):
            (labels / f'doc{i}.json').write_text(text, encoding='utf-8')
        before = snapshot(work)
        argv = ['--images', str(images), '--labels', str(labels), '--output', str(out), '--split', '1', '0', '0',
                '--quiet'] + (['--data_type', data_type] if data_type else [])
        status = exit_status(aihub_dataset.main, argv)
        if data_type:  # detection may fairly fail on a junk first file; given the type, the good box lands
            assert status == 0
            assert f'\t{GOOD_LABEL}\n' in (out / 'gt_train.txt').read_text(encoding='utf-8')
            assert exit_status(get_images.main, ['--images', str(images), '--dataset_dir', str(out), '--workers',
                                                 '1', '--quiet']) in (0, 2)
            assert (out / 'train' / 'photo_000.jpg').is_file()
        else:
            assert status in (0, 2)
        assert snapshot(work, leave_out=out) == before


LINE_ENDS = st.sampled_from(['\n', '\r\n', '\r', '\u2028', '\x85', ''])
GT_NAMES = st.sampled_from(['img0.png', 'img1.png', 'missing.png', '../outside.png', '/etc/hostname', 'sub',
                            'img0.png\x00', 'pipe']) | NASTY_TEXT


@st.composite
def gt_files(draw):
    lines = draw(st.lists(st.tuples(GT_NAMES, st.sampled_from(['\t', ' ', '\t\t', '']), NASTY_TEXT, LINE_ENDS),
                          max_size=8))
    text = 'img0.png\t' + GOOD_LABEL + '\n' + ''.join(n + sep + label + end for n, sep, label, end in lines)
    encoding = draw(st.sampled_from(['utf-8', 'utf-8-sig', 'utf-16', 'utf-16-le', 'cp949']))
    data = text.encode(encoding, errors='replace')
    if draw(st.booleans()):
        cut = draw(st.integers(len(data) // 2, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return data, encoding in ('utf-8', 'utf-8-sig', 'utf-16')


@FUZZ
@given(gt=gt_files())
def test_gt_file_to_lmdb(gt):
    data, good_line_readable = gt
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        inputs = work / 'in'
        inputs.mkdir()
        for i in range(2):
            Image.new('L', (40, 20), 255).save(inputs / f'img{i}.png')
        (inputs / 'sub').mkdir()
        (work / 'outside.png').write_bytes((inputs / 'img0.png').read_bytes())
        (inputs / 'gt.txt').write_bytes(data)
        before = snapshot(work)
        out = work / 'lmdb'
        status = exit_status(create_lmdb_dataset.main, ['--inputPath', str(inputs), '--gtFile', str(inputs / 'gt.txt'),
                                                        '--outputPath', str(out), '--quiet'])
        assert status in (0, 2)
        assert snapshot(work, leave_out=out) == before
        if good_line_readable and data.startswith(('img0.png\t' + GOOD_LABEL).encode('utf-8')):
            assert status == 0


PIL_MODES = ['1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'RGBX', 'CMYK', 'YCbCr', 'LAB', 'HSV', 'I', 'I;16', 'I;16B',
             'F', 'La', 'RGBa']


@FUZZ
@given(mode=st.sampled_from(PIL_MODES), fmt=st.sampled_from(['PNG', 'TIFF', 'JPEG', 'WEBP', 'BMP', 'GIF', 'PPM']),
       size=st.tuples(st.integers(1, 3000), st.integers(1, 40)).map(lambda s: s if s[0] % 2 else s[::-1]),
       cut=st.one_of(st.none(), st.integers(0, 200)), seed=st.integers(0, 2 ** 16))
def test_every_image_opens_or_is_none(mode, fmt, size, cut, seed):
    array = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    try:
        image = Image.fromarray(array).convert(mode)
    except ValueError:
        image = Image.new(mode, size)
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError, TypeError):
        return  # the format cannot hold this mode
    data = buffer.getvalue() if cut is None else buffer.getvalue()[:cut]
    for rgb in (False, True):
        opened = open_image(data, rgb=rgb)
        assert opened is None or (opened.mode == ('RGB' if rgb else 'L') and opened.size == size)
    if cut is None:
        assert open_image(data) is not None


FLAG_VALUES = st.sampled_from(['0', '-1', '1', '2', 'nan', 'inf', '-inf', '1e999', 'a', '', '0.5', '3.7', '-0',
                               '1-1', '0.5-0.5', 'a-b', '1--1', '99999999999999999999', '\x00', '/', '/nonexistent/x',
                               'README.md/x']) | st.text(max_size=6)
PARSERS = {
    'train.py': (lambda argv: train.parse_args(['--train_data', 'x', '--valid_data', 'y', *argv]),
                 ['--valInterval', '--saveInterval', '--batch_size', '--workers', '--lr', '--imgH', '--imgW',
                  '--batch_ratio', '--total_data_usage_ratio', '--num_iter', '--time_limit', '--warmup', '--grad_clip',
                  '--hidden_size', '--output_channel', '--num_fiducial', '--batch_max_length']),
    'test.py': (lambda argv: test_script.parse_args(['--eval_data', 'x', *argv]), ['--batch_size', '--workers']),
    'demo.py': (lambda argv: demo.parse_args(['--image_folder', 'x', *argv]),
                ['--batch_size', '--workers', '--threads', '--log_filename', '--html']),
    'synth_aihub.py': (lambda argv: synth_aihub.parse_args(['--data_type', 'font', '--output', 'o', *argv]),
                       ['--count', '--workers', '--degrade', '--latin_font_rate', '--unreadable_rate']),
    'get_images.py': (lambda argv: get_images.parse_args(['--images', 'i', '--dataset_dir', 'd', *argv]),
                      ['--workers']),
}


@FUZZ
@given(script=st.sampled_from(sorted(PARSERS)), data=st.data())
def test_numeric_flags_are_checked_at_parse_time(script, data):
    parse, flags = PARSERS[script]
    flag = data.draw(st.sampled_from(flags))
    value = data.draw(FLAG_VALUES)
    try:
        parsed = parse([flag, value])
    except SystemExit as exit_:
        assert exit_.code == 2
        return
    options = parsed[0] if isinstance(parsed, tuple) else parsed
    result = getattr(options, flag.lstrip('-'))
    if isinstance(result, float):
        assert np.isfinite(result) and result >= 0
    elif isinstance(result, int):
        assert result >= 0
    assert isinstance(result, (int, float, str, type(None)))
    assert not isinstance(result, str) or flag in ('--batch_ratio', '--log_filename', '--html')


# ---------------------------------------------------------------- model files as input (round three)
# A .pth or .onnx is input like any other: its stored config, charset, decoding and training keys are
# generated here with wrong types, control characters, huge or negative numbers and paths to special
# files; each case also runs under a time bound, so a wait without end fails it.

import os  # noqa: E402
import signal  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import event  # noqa: E402

import export_onnx  # noqa: E402
from charset import has_control_character  # noqa: E402
from checkpoint import make_checkpoint  # noqa: E402
from create_lmdb_dataset import createDataset  # noqa: E402
from decoding import Decoding  # noqa: E402
from model import Model, ModelConfig  # noqa: E402
from recognizer import Recognizer  # noqa: E402

CHARACTERS = '가나다라abc '
TINY = dict(Transformation='None', FeatureExtraction='VGG', SequenceModeling='None', Prediction='CTC',
            output_channel=32, hidden_size=32)
CASE_SECONDS = 60  # far above any case's run time; a case that takes longer is waiting on something


class Hang(Exception):
    pass


@contextmanager
def bounded(seconds=CASE_SECONDS):
    """Fails the case (Hang) when the block runs longer than `seconds`: a FIFO opened, an endless search."""
    def expire(signum, frame):
        raise Hang(f'still running after {seconds} s')
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope='module')
def model_inputs(tmp_path_factory):
    """A folder of what a hostile model file can point at (a FIFO, a folder, /etc/passwd-like text), two
    crops, a tiny LMDB, a good checkpoint and its ONNX export."""
    root = tmp_path_factory.mktemp('model_inputs')
    images = root / 'images'
    images.mkdir()
    for i, color in enumerate((255, 128)):
        Image.new('L', (60, 24), color).save(images / f'crop{i}.png')
    (images / 'gt.txt').write_text('crop0.png\t가나\ncrop1.png\t다라\n', encoding='utf-8')
    createDataset(images, images / 'gt.txt', root / 'lmdb')
    os.mkfifo(root / 'pipe')
    (root / 'words.txt').write_text('root:x:0:0:root:/root:/bin/bash\n', encoding='utf-8')
    torch.manual_seed(0)
    config = ModelConfig(num_class=len(CHARACTERS) + 1, **TINY)
    checkpoint = make_checkpoint(Model(config), config, list(CHARACTERS))
    torch.save(checkpoint, root / 'good.pth')
    assert exit_status(export_onnx.main, ['--saved_model', str(root / 'good.pth'), '--output', str(root / 'good.onnx')]) == 0
    return root, checkpoint


def special_paths(root):
    return st.sampled_from([str(root / 'pipe'), str(root / 'words.txt'), '/etc/passwd', '/dev/zero', '/dev/null',
                            str(root), 'default', '../pipe', 'pipe', '', 'no/such/list.txt', 'a\x00b'])


# the charset with one class swapped (same class count, so the weights still fit): a tab, a newline, a
# NUL, a class twice
SWAPPED_CHARSET = st.builds(lambda i, c: CHARACTERS[:i] + c + CHARACTERS[i + 1:], st.integers(0, len(CHARACTERS) - 1),
                            st.sampled_from(['\t', '\n', '\x00', '\u2028', '가', 'Z']))
HOSTILE = (NUMBERS | NASTY_TEXT | ANY_JSON
           | st.sampled_from([0, -5, 10 ** 9, 31, 33, 5, 1e9, 2.5, True, False, None, [32], {'a': 1}, '32', 'Evil',
                              'CTC\n', 'None', float('nan')]))


@st.composite
def hostile_decodings(draw, root):
    kind = draw(st.sampled_from(['spec', 'spec', 'junk', 'none']))
    if kind == 'none':
        return None
    if kind == 'junk':
        return draw(HOSTILE)
    spec = {'beam_size': draw(st.sampled_from([1, 2, 4, 64, 65, 0, -5, 10 ** 9]) | HOSTILE),
            'lexicon': draw(st.none() | special_paths(root) | HOSTILE),
            'lexicon_weight': draw(st.none() | st.sampled_from([0.0, 2.0, -1.0, float('inf')]) | HOSTILE)}
    for key in draw(st.sets(st.sampled_from(sorted(spec)), max_size=1)):
        del spec[key]
    return spec


@st.composite
def hostile_checkpoints(draw, root, good):
    """The good checkpoint with some of its stored keys replaced by generated hostile values."""
    checkpoint = dict(good)
    config = dict(good['config'])
    for key in draw(st.sets(st.sampled_from(sorted(config) + ['unknown']), max_size=3)):
        config[key] = draw(HOSTILE)
    changes = {
        'config': st.just(config) | HOSTILE,
        'character': SWAPPED_CHARSET | st.text(alphabet=st.sampled_from(list(CHARACTERS) + ['\t', '\n', '\x00', '\u2028', '가', 'Z']),
                             max_size=12) | HOSTILE,
        'decoding': hostile_decodings(root),
        'PAD': st.booleans() | HOSTILE,
        'iteration': st.integers(-3, 10) | HOSTILE,
        'best_accuracy': HOSTILE,
        'optimizer': HOSTILE | st.just({'state': {}, 'param_groups': [{'params': [0]}]}),
        'optimizer_options': st.dictionaries(st.sampled_from(['lr', 'adam', 'warmup', 'scheduler', 'x']), HOSTILE,
                                             max_size=3) | HOSTILE,
    }
    for key in draw(st.sets(st.sampled_from(sorted(changes)), min_size=1, max_size=3)):
        checkpoint[key] = draw(changes[key])
    if draw(st.booleans()):
        checkpoint['config'] = config
    return checkpoint


def assert_log_columns(log):
    """Every row of a test_log.txt has the header's columns (a tab in a charset class would split one)."""
    lines = log.read_text(encoding='utf-8').split('\n')
    rows = [line for line in lines[1:] if line and not line.startswith('total:')]
    assert all(row.count('\t') == lines[0].count('\t') for row in rows)


def run_bounded(main, argv):
    with bounded():
        return exit_status(main, argv)


@settings(FUZZ, max_examples=60)
@given(data=st.data(), script=st.sampled_from(['demo.py', 'demo.py', 'test.py', 'train.py']))
def test_hostile_model_files(model_inputs, data, script):
    root, good = model_inputs
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        model = work / 'model.pth'
        torch.save(data.draw(hostile_checkpoints(root, good)), model)
        before, inputs = snapshot(work), snapshot(root)
        out = work / 'out'
        out.mkdir()
        if script == 'demo.py':
            status = run_bounded(demo.main, ['--image_folder', str(root / 'images'), '--saved_model', str(model),
                                             '--label_test', str(root / 'images' / 'gt.txt'), '--log_filename',
                                             str(out / 'log.txt'), '--workers', '0', '--quiet'])
        elif script == 'test.py':
            status = run_bounded(test_script.main, ['--eval_data', str(root / 'lmdb'), '--saved_model', str(model),
                                                    '--result_folder', str(out), '--workers', '0', '--quiet'])
        else:
            status = run_bounded(train.main, ['--train_data', str(root / 'lmdb'), '--valid_data', str(root / 'lmdb'),
                                              '--saved_model', str(model), '--saved_folder', str(out), '--num_iter',
                                              '2', '--valInterval', '1', '--batch_size', '2', '--workers', '0',
                                              '--quiet'])
        event(f'{script} exit {status}')
        assert status in (0, 2)
        if status == 0 and script == 'demo.py':
            assert_log_columns(out / 'log.txt')
        assert snapshot(work, leave_out=out) == before  # the model file is not changed, nothing written beside it
        assert snapshot(root) == inputs


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_hostile_onnx_metadata(model_inputs, data):
    import onnx
    root, good = model_inputs
    proto = onnx.load(str(root / 'good.onnx'))
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    config = json.loads(metadata['kocrnn.config'])
    for key in data.draw(st.sets(st.sampled_from(sorted(config)), max_size=2)):
        config[key] = data.draw(HOSTILE)
    choices = {'kocrnn.config': st.just(json.dumps(config)) | NASTY_TEXT,
               'kocrnn.character': SWAPPED_CHARSET | st.text(alphabet=st.sampled_from(list(CHARACTERS) + ['\t', '\n', '가']), max_size=10),
               'kocrnn.decoding': st.builds(json.dumps, hostile_decodings(root)) | NASTY_TEXT,
               'kocrnn.PAD': NASTY_TEXT}
    for key in data.draw(st.sets(st.sampled_from(sorted(choices)), min_size=1, max_size=3)):
        metadata[key] = data.draw(choices[key])
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, metadata)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        onnx.save(proto, work / 'model.onnx')
        before, inputs = snapshot(work), snapshot(root)
        status = run_bounded(demo.main, ['--image_folder', str(root / 'images'), '--onnx', str(work / 'model.onnx'),
                                         '--log_filename', str(work / 'log.txt'), '--workers', '0', '--quiet'])
        event(f'exit {status}')
        assert status in (0, 2)
        if status == 0:  # read only with a charset whose classes can be logged
            assert_log_columns(work / 'log.txt')
            assert not has_control_character(metadata['kocrnn.character'])
        assert {p: v for p, v in snapshot(work).items() if p.name != 'log.txt'} == before
        assert snapshot(root) == inputs


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_python_api_arguments(model_inputs, data):
    root, _ = model_inputs
    good = [str(root / 'images' / 'crop0.png'), root / 'images' / 'crop1.png', np.zeros((8, 8), np.uint8)]
    bad = [str(root / 'pipe'), '/dev/zero', str(root), str(root / 'words.txt'), 42, None]
    hostile = {  # each argument's hostile values; a case makes one or two of them hostile, the rest usual
        'decoding': NASTY_TEXT | st.sampled_from(['beam:65', 'beam:-5', 'beam', f'beam:4:{root / "pipe"}:2',
                                                  'beam:4:/dev/zero:1'])
        | st.builds(Decoding, st.sampled_from([0, -5, 10 ** 9, 2.5, True]), st.just(frozenset()), st.just(0.0))
        | st.builds(Decoding, st.just(2), st.just(frozenset()), st.sampled_from([-1.0, float('nan')])) | HOSTILE,
        'amp': HOSTILE, 'threads': HOSTILE,
        'images': st.lists(st.sampled_from(good + bad), min_size=1, max_size=3),
        'batch_size': st.sampled_from([0, -1, 2.5, True, '8', None]),
    }
    usual = {'decoding': st.sampled_from([None, 'greedy', 'beam:2', 'beam:4:default:2', Decoding(2)]),
             'amp': st.sampled_from(['auto', 'off']), 'threads': st.sampled_from([None, 1]),
             'images': st.lists(st.sampled_from(good), max_size=3), 'batch_size': st.sampled_from([1, 64, 10 ** 12])}
    chosen = data.draw(st.sets(st.sampled_from(sorted(hostile)), max_size=2))
    event('hostile: ' + (', '.join(sorted(chosen)) or 'none'))
    args = {name: data.draw(hostile[name] if name in chosen else usual[name]) for name in sorted(usual)}
    decoding, amp, threads, images, batch_size = (args[k] for k in ('decoding', 'amp', 'threads', 'images', 'batch_size'))
    inputs = snapshot(root)
    with bounded():
        try:
            reader = Recognizer.load(root / 'good.pth', decoding=decoding, amp=amp, threads=threads, device='cpu')
            readings = reader.read(images, batch_size=batch_size)
            event('read')
            assert len(readings) == len(images)
        except UserError as error:
            assert '\n' not in str(error)
            event('UserError')
    assert snapshot(root) == inputs
