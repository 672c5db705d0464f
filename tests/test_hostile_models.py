"""Hostile input, round three: outputs that would replace the user's files, model files as input (their
config, charset and decoding checked as the command line's are), waits without end, silently wrong
labels and a report reading outside its folder. Each test failed before its fix."""
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

import demo
import export_onnx
import train
from checkpoint import atomic_save, load_checkpoint, make_checkpoint
from conftest import SMALL_MODEL, WORDS, train_args
from model import Model, ModelConfig
from recognizer import Recognizer
from utils import UserError

REPO = Path(__file__).resolve().parents[1]
CHARACTERS = '가나다라abc'
TINY = dict(Transformation='None', FeatureExtraction='VGG', SequenceModeling='None', Prediction='CTC',
            output_channel=32, hidden_size=32)


def tiny_checkpoint(characters=CHARACTERS, **changes):
    """A small untrained kocrnn checkpoint; changes replace its stored keys after it is made."""
    torch.manual_seed(0)
    config = ModelConfig(num_class=len(characters) + 1, **TINY)
    return {**make_checkpoint(Model(config), config, list(characters)), **changes}


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / 'model.pth'
    atomic_save(tiny_checkpoint(), path)
    return path


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / 'images'
    folder.mkdir()
    for name in ('a.png', 'b.png'):
        Image.new('L', (60, 24), 255).save(folder / name)
    return folder


def run(*args, timeout=120):
    """A script as a user runs it: (exit status, stderr)."""
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                            timeout=timeout)
    return result.returncode, result.stderr


def one_line_error(status, stderr):
    assert status == 2 and 'Traceback' not in stderr, stderr
    return [line for line in stderr.splitlines() if 'error:' in line][-1]


def tree(root):
    return {p: p.read_bytes() for p in Path(root).rglob('*') if p.is_file()}


# ---------------------------------------------------------------- 1. never overwrite what the user owns

def test_an_output_naming_an_input_is_refused(model_file, images, tmp_path):
    before = model_file.read_bytes()
    with pytest.raises(UserError, match='is the input'):
        export_onnx.main(['--saved_model', str(model_file), '--output', str(model_file)])
    status, stderr = run('scripts/export_pretrained.py', model_file, model_file, '--half')
    assert 'is the input' in one_line_error(status, stderr)
    assert model_file.read_bytes() == before
    gt = images / 'gt.txt'
    gt.write_text('a.png\t가나\n', encoding='utf-8')
    image_bytes = (images / 'a.png').read_bytes()
    for flag, output in (('--log_filename', gt), ('--html', images / 'a.png'), ('--log_filename', model_file)):
        with pytest.raises(UserError, match='is the input'):
            demo.main(['--image_folder', str(images), '--saved_model', str(model_file), '--label_test', str(gt),
                       flag, str(output), '--workers', '0', '--quiet'])
    assert gt.read_text(encoding='utf-8') == 'a.png\t가나\n' and (images / 'a.png').read_bytes() == image_bytes
    (tmp_path / 'notes.txt').write_text('my notes')
    with pytest.raises(UserError, match='not a .* kocrnn wrote'):
        demo.main(['--image_folder', str(images), '--saved_model', str(model_file), '--log_filename',
                   str(tmp_path / 'notes.txt'), '--workers', '0', '--quiet'])
    assert (tmp_path / 'notes.txt').read_text() == 'my notes'


def test_resuming_a_shipped_train_state_writes_a_new_run_folder(word_lmdb, tmp_path):
    run_dir = train.main(train_args(word_lmdb, tmp_path / 'runs', *SMALL_MODEL, '--adam', '--num_iter', '2',
                                    '--valInterval', '1', '--exp_name', 'r'))
    shipped = tmp_path / 'pretrained_models'
    shipped.mkdir()
    (shipped / 'kocrnn-train-state.pth').write_bytes((run_dir / 'last.pth').read_bytes())
    before = tree(shipped)
    resumed = train.main(train_args(word_lmdb, tmp_path / 'runs', '--saved_model',
                                    str(shipped / 'kocrnn-train-state.pth'), '--num_iter', '4', '--valInterval', '2'))
    assert tree(shipped) == before and sorted(os.listdir(shipped)) == ['kocrnn-train-state.pth']
    assert resumed.parent == tmp_path / 'runs' and load_checkpoint(resumed / 'last.pth')['iteration'] == 4


def test_two_runs_of_one_name_never_share_a_folder(tmp_path, monkeypatch):
    (tmp_path / 'r').mkdir()
    monkeypatch.setattr(Path, 'exists', lambda self: False)  # another train.py made it after the look
    assert train.unique_run_dir(tmp_path, 'r') == tmp_path / 'r-2'


# ---------------------------------------------------------------- 2. a model file is input

HOSTILE_STORED = [
    ('config', {**tiny_checkpoint()['config'], 'imgH': 0}, 'imgH'),
    ('config', {**tiny_checkpoint()['config'], 'Prediction': 'Evil'}, 'Prediction'),
    ('config', {**tiny_checkpoint()['config'], 'hidden_size': [32]}, 'hidden_size'),
    ('config', {**tiny_checkpoint()['config'], 'output_channel': 10 ** 12}, 'output_channel'),
    ('config', 'not a dict', 'config'),
    ('character', '가나\n다라abc', 'control character'),
    ('character', '가나\t다라abc', 'control character'),
    ('character', '가가나다라ab', 'twice'),
    ('character', ['가', '나'], 'character'),
    ('decoding', {'beam_size': 10 ** 9, 'lexicon': None, 'lexicon_weight': None}, 'beam'),
    ('decoding', {'beam_size': -5, 'lexicon': None, 'lexicon_weight': None}, 'beam'),
    ('decoding', {'beam_size': 4, 'lexicon': '/etc/passwd', 'lexicon_weight': 2.0}, 'shipped word list'),
    ('decoding', {'beam_size': 4, 'lexicon': 'default', 'lexicon_weight': float('nan')}, 'weight'),
    ('decoding', 'beam', 'decoding'),
    ('PAD', 'yes', 'PAD'),
]


@pytest.mark.parametrize('key, value, named', HOSTILE_STORED, ids=[f'{k}-{v!r}'[:40] for k, v, _ in HOSTILE_STORED])
def test_a_model_files_stored_options_are_checked_on_load(tmp_path, key, value, named):
    path = tmp_path / 'hostile.pth'
    atomic_save(tiny_checkpoint(**{key: value}), path)
    with pytest.raises(UserError, match=named) as error:
        Recognizer.load(path, device='cpu')
    assert '\n' not in str(error.value)


def test_a_model_file_naming_a_fifo_as_word_list_is_refused_at_once(tmp_path, images):
    os.mkfifo(tmp_path / 'pipe.txt')
    path = tmp_path / 'pipe-model.pth'
    atomic_save(tiny_checkpoint(decoding={'beam_size': 4, 'lexicon': str(tmp_path / 'pipe.txt'),
                                          'lexicon_weight': 2.0}), path)
    status, stderr = run('demo.py', '--image_folder', images, '--saved_model', path, '--log_filename',
                         tmp_path / 'log.txt', '--workers', '0', timeout=60)
    assert 'word list' in one_line_error(status, stderr)


def test_malformed_training_keys_on_resume_are_one_line(word_lmdb, tmp_path):
    good = tiny_checkpoint(''.join(sorted(set(''.join(WORDS)))), iteration=3, best_accuracy=1.0,
                           optimizer={'state': {}, 'param_groups': []})
    for changes, named in (({'iteration': 'three'}, 'iteration'), ({'optimizer': [1, 2]}, 'optimizer'),
                           ({'best_accuracy': 'high'}, 'best_accuracy'),
                           ({'optimizer_options': {'lr': 'fast'}}, 'optimizer_options')):
        path = tmp_path / 'resume.pth'
        atomic_save({**good, **changes}, path)
        with pytest.raises(UserError, match=named):
            train.main(train_args(word_lmdb, tmp_path / 'runs', '--saved_model', str(path), '--num_iter', '5'))


# ---------------------------------------------------------------- 3. every wait bounded

def test_fifos_are_refused_not_waited_on(model_file, images, tmp_path):
    os.mkfifo(tmp_path / 'pipe')
    status, stderr = run('demo.py', '--image_folder', images, '--saved_model', model_file, '--beam_size', '4',
                         '--lexicon', tmp_path / 'pipe', '--log_filename', tmp_path / 'log.txt', '--workers', '0',
                         timeout=60)
    assert 'FIFO' in one_line_error(status, stderr)
    reader = Recognizer.load(model_file, device='cpu')
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(pytest.raises(UserError, reader.read, str(tmp_path / 'pipe'))),
                              daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():
        with open(tmp_path / 'pipe', 'wb'):  # let the blocked open return, so the test process can end
            pass
        worker.join(5)
    assert outcome and 'FIFO' in str(outcome[0].value)


def test_beam_size_has_an_upper_bound(model_file, images, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        demo.parse_args(['--image_folder', str(images), '--beam_size', '100000'])
    assert exit_.value.code == 2


def test_a_huge_label_does_not_blow_up_the_log(model_file, images, tmp_path):
    gt = tmp_path / 'gt.txt'
    gt.write_text('a.png\t' + '가' * 200_000 + '\nb.png\t나\n', encoding='utf-8')
    log = tmp_path / 'log.txt'
    demo.main(['--image_folder', str(images), '--saved_model', str(model_file), '--label_test', str(gt),
               '--log_filename', str(log), '--workers', '0', '--quiet'])
    text = log.read_text(encoding='utf-8')
    assert len(text) < 5_000 and '…' in text
    assert all(line.count('\t') == 4 for line in text.splitlines()[:3])


# ---------------------------------------------------------------- 4. silently wrong

def test_labels_resolve_against_the_gt_files_folder_and_never_by_name_alone(model_file, tmp_path):
    data = tmp_path / 'kor_dataset'
    for name in ('test/x.png', 'test/sub2/y.png'):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new('L', (60, 24), 255).save(data / name)
    gt = data / 'gt_test.txt'
    gt.write_text('test/x.png\t가나\ntest/sub1/y.png\t다라\n', encoding='utf-8')  # the seed's layout
    log = tmp_path / 'log.txt'
    demo.main(['--image_folder', str(data / 'test'), '--saved_model', str(model_file), '--label_test', str(gt),
               '--log_filename', str(log), '--workers', '0', '--quiet'])
    rows = {line.split('\t')[0].strip(): line.split('\t')[1].strip() for line in log.read_text().splitlines()[1:-1]}
    assert rows == {'x.png': '가나', 'sub2/y.png': '-'}


def test_a_tab_in_an_image_name_keeps_the_log_columns(model_file, images, tmp_path):
    Image.new('L', (60, 24), 255).save(images / 'tab\there.png')
    log = tmp_path / 'log.txt'
    demo.main(['--image_folder', str(images), '--saved_model', str(model_file), '--log_filename', str(log),
               '--workers', '0', '--quiet'])
    lines = log.read_text(encoding='utf-8').splitlines()
    assert len(lines) == 4 and all(line.count('\t') == 2 for line in lines)
    assert any(line.startswith('tab\\there.png') for line in lines)


def test_charset_lines_with_control_characters_and_an_empty_character_are_refused(tmp_path, word_lmdb):
    from charset import load_charset
    for text in ('가\n나\ta\n', '가\n\t\n나\n'):
        (tmp_path / 'charset.txt').write_text(text, encoding='utf-8')
        with pytest.raises(UserError, match='control character'):
            load_charset(character_file=tmp_path / 'charset.txt')
    with pytest.raises(UserError, match='empty'):
        load_charset(character='')
    with pytest.raises(UserError, match='--character is empty'):
        train.main(train_args(word_lmdb, tmp_path / 'runs', '--character', '', '--num_iter', '1'))


def test_the_python_api_checks_its_arguments_as_the_cli_does(model_file, images):
    with pytest.raises(UserError, match='decoding'):
        Recognizer.load(model_file, decoding='beam', device='cpu')
    with pytest.raises(UserError, match='amp'):
        Recognizer.load(model_file, amp='maybe', device='cpu')
    reader = Recognizer.load(model_file, device='cpu', decoding='beam:4')
    assert reader.decoding.beam_size == 4
    for batch_size in (-1, 0, 2.5, True):
        with pytest.raises(UserError, match='batch_size'):
            reader.read([str(images / 'a.png')], batch_size=batch_size)


# ---------------------------------------------------------------- 5. never read outside the folder

def test_the_report_never_embeds_a_link_to_a_photo_elsewhere(model_file, images, tmp_path):
    secret = tmp_path / 'private' / 'me.png'
    secret.parent.mkdir()
    Image.new('RGB', (60, 24), (10, 200, 30)).save(secret)
    (images / 'link.png').symlink_to(secret)
    report = tmp_path / 'report.html'
    status, stderr = run('demo.py', '--image_folder', images, '--saved_model', model_file, '--log_filename',
                         tmp_path / 'log.txt', '--html', report, '--workers', '0')
    assert status == 0, stderr
    assert 'link.png' not in report.read_text(encoding='utf-8') and 'outside' in stderr
    assert len((tmp_path / 'log.txt').read_text(encoding='utf-8').splitlines()) == 3
