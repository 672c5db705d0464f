"""Steps 1 and 2 never write over what the user owns: aihub_dataset.py replaces a gt/sources file only when it
is exactly what an earlier run wrote, get_images.py writes only into split folders of its own, and no output
is ever one of the inputs. Rerunning either step on its own output still works."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import aihub_dataset
import get_images
import safe_files
from utils import UserError

REPO = Path(__file__).resolve().parents[1]
SPLITS = ('train', 'validation', 'test')


def tree(root):
    """{relative path: bytes} of every file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in Path(root).rglob('*') if p.is_file()}


@pytest.fixture
def user(tmp_path):
    """The README's step-1 folder: the user's images/ and labels/ (3 photos, 2 boxes each), the --output."""
    root = tmp_path / 'signboard'
    (root / 'images').mkdir(parents=True)
    (root / 'labels').mkdir()
    for i in range(3):
        Image.new('RGB', (120, 60), (200, 40 * i, 90)).save(root / 'images' / f'p{i}.jpg')
        (root / 'labels' / f'p{i}.json').write_text(json.dumps({
            'images': [{'id': 1, 'file_name': f'p{i}.jpg', 'width': 120, 'height': 60}],
            'annotations': [{'image_id': 1, 'text': '서울', 'bbox': [0, 0, 50, 30]},
                            {'image_id': 1, 'text': '부산', 'bbox': [50, 20, 60, 30]}]}, ensure_ascii=False),
            encoding='utf-8')
    return root


def step1(root, *extra, output=None):
    aihub_dataset.main(['--images', str(root / 'images'), '--labels', str(root / 'labels'),
                        '--output', str(output or root), '--quiet', *extra])


def step2(root, *extra):
    get_images.main(['--images', str(root / 'images'), '--dataset_dir', str(root), '--workers', '1', '--quiet',
                     *extra])


@pytest.mark.parametrize('name', ['gt_train.txt', 'sources_test.tsv'])
def test_step1_keeps_a_users_gt_or_sources_file(user, name):
    (user / name).write_text('train/mine.jpg\t내 라벨\n', encoding='utf-8')  # e.g. from the user's real data
    before = tree(user)
    with pytest.raises(UserError, match=rf'{name} exists and is not .* aihub_dataset.py wrote.*--output'):
        step1(user)
    assert tree(user) == before  # refused before anything was written: no gt file of another split either


def test_step1_replaces_its_own_outputs_but_not_one_the_user_changed(user):
    step1(user)
    first = tree(user)
    step1(user)  # the earlier run's six files are its own: replaced, byte for byte the same
    assert tree(user) == first
    step1(user, '--split', '0', '0', '1')
    assert (user / 'gt_train.txt').read_text(encoding='utf-8') == ''
    gt = user / 'gt_test.txt'
    gt.write_text(gt.read_text(encoding='utf-8').replace('서울', '서울역'), encoding='utf-8')  # a hand correction
    before = tree(user)
    with pytest.raises(UserError, match='gt_test.txt exists and is not'):
        step1(user)
    assert tree(user) == before


def test_step1_refuses_an_own_record_file_it_cannot_read(user):
    mark = getattr(safe_files, 'FILES_MARK', '.kocrnn-files')
    (user / mark).write_text('my notes\n', encoding='utf-8')
    with pytest.raises(UserError, match=mark):
        step1(user)
    assert (user / mark).read_text(encoding='utf-8') == 'my notes\n' and not (user / 'gt_train.txt').exists()


def test_step1_output_is_never_an_input(user):
    step1(user)
    before = tree(user)
    with pytest.raises(UserError, match='gt_train.txt is the input'):
        step1(user, '--character_file', str(user / 'gt_train.txt'))
    label = user / 'labels' / 'p0.json'
    with pytest.raises(UserError, match='gt_validation.txt is the input'):
        aihub_dataset.main(['--images', str(user / 'images'), '--labels', str(user / 'gt_validation.txt'),
                            str(label), '--output', str(user), '--quiet'])
    assert tree(user) == before
    # a label JSON saved under a gt name in --output: an input and the user's, kept either way
    other = user.parent / 'other'
    other.mkdir()
    (other / 'gt_train.txt').write_bytes(label.read_bytes())
    with pytest.raises(UserError, match='is the input'):
        aihub_dataset.main(['--images', str(user / 'images'), '--labels', str(other / 'gt_train.txt'),
                            '--output', str(other), '--quiet'])
    assert (other / 'gt_train.txt').read_bytes() == label.read_bytes()


def test_step1_error_is_one_line_exit_2(user):
    (user / 'gt_validation.txt').write_text('mine\n', encoding='utf-8')
    result = subprocess.run([sys.executable, 'aihub_dataset.py', '--images', str(user / 'images'), '--labels',
                             str(user / 'labels'), '--output', str(user)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith('error: ') and 'gt_validation.txt' in result.stderr


def test_step2_never_writes_into_a_users_split_folder(user):
    step1(user, '--split', '0', '0', '1')
    target = (user / 'sources_test.tsv').read_text(encoding='utf-8').split('\t')[0]  # test/p?_000.jpg
    (user / 'test').mkdir()
    (user / 'test' / 'word_1.png').write_bytes(b'my own crop')  # the seed's gt_test.txt + test/ layout
    (user / target).write_bytes(b'my file of the same name')
    before = tree(user)
    for extra in ([], ['--overwrite']):
        with pytest.raises(UserError, match='test already holds files get_images.py did not write'):
            step2(user, *extra)
        assert tree(user) == before


def test_step2_writes_only_under_the_split_of_its_sources_file(user):
    step1(user, '--split', '1', '0', '0')
    sources = user / 'sources_train.tsv'
    photo = user / 'images' / 'p0.jpg'
    kept = photo.read_bytes()
    sources.write_text(sources.read_text(encoding='utf-8') + 'images/p0.jpg\tp1.jpg\t0,0,10,10\n'
                       'test/p9_000.jpg\tp1.jpg\t0,0,10,10\n', encoding='utf-8')
    step2(user, '--overwrite')
    assert photo.read_bytes() == kept and not (user / 'test').exists()
    assert len(list((user / 'train').glob('*.jpg'))) == 6


def test_rerunning_both_steps_on_their_own_output_works(user):
    inputs = {k: v for k, v in tree(user).items() if k.startswith(('images/', 'labels/'))}
    step1(user)
    step2(user)
    crops = {k: v for k, v in tree(user).items() if k.endswith('.jpg') and not k.startswith('images/')}
    assert len(crops) == 6
    step1(user)
    step2(user, '--overwrite')
    step2(user)
    after = tree(user)
    assert {k: after[k] for k in crops} == crops
    assert {k: v for k, v in after.items() if k.startswith(('images/', 'labels/'))} == inputs


def test_test_py_appends_only_to_its_own_evaluation_log(tmp_path, word_lmdb):
    import test as test_script
    from checkpoint import atomic_save, make_checkpoint
    from model import Model, ModelConfig
    characters = sorted(set('가나다라마바사아자차카타파하'))
    config = ModelConfig(num_class=len(characters) + 1, output_channel=32, hidden_size=32)
    (tmp_path / 'run').mkdir()
    atomic_save(make_checkpoint(Model(config), config, characters), tmp_path / 'run' / 'model.pth')
    argv = ['--eval_data', str(word_lmdb / 'validation'), '--saved_model', str(tmp_path / 'run' / 'model.pth'),
            '--result_folder', str(tmp_path / 'result'), '--workers', '0', '--quiet']
    log = tmp_path / 'result' / 'run' / 'log_evaluation.txt'
    for run in (1, 2):  # the second run appends to the log the first wrote
        test_script.main(argv)
        assert log.read_text(encoding='utf-8').count('accuracy:') == run
    with log.open('a', encoding='utf-8') as handle:
        handle.write('my own notes\n')  # the user's now
    with pytest.raises(UserError, match='log_evaluation.txt exists and is not a test.py evaluation log kocrnn wrote'):
        test_script.main(argv)
    assert log.read_text(encoding='utf-8').endswith('my own notes\n')
