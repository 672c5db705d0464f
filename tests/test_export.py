"""scripts/export_pretrained.py: what ships is what was trained, smaller."""
import subprocess
import sys

import torch

import demo
from checkpoint import load_checkpoint
from decoding import GREEDY
from recognizer import Recognizer
from utils import REPO_DIR


def export(*args):
    return subprocess.run([sys.executable, str(REPO_DIR / 'scripts' / 'export_pretrained.py'), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_average_is_the_mean_of_the_snapshots_and_half_halves(trained_run, tmp_path):
    last = trained_run / 'last.pth'
    checkpoint = load_checkpoint(last)
    moved = {k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v for k, v in checkpoint['model'].items()}
    torch.save({**checkpoint, 'model': moved}, tmp_path / 'later.pth')  # a snapshot a little further on
    assert export(last, tmp_path / 'avg.pth', '--average', tmp_path / 'later.pth', '--half').returncode == 0
    shipped = load_checkpoint(tmp_path / 'avg.pth')
    for key, value in checkpoint['model'].items():
        if value.is_floating_point():
            assert shipped['model'][key].dtype == torch.float16
            torch.testing.assert_close(shipped['model'][key].float(), (value + moved[key]) / 2, atol=2e-3, rtol=1e-3)
    assert 'optimizer' not in shipped and shipped['character'] == checkpoint['character']


def test_train_state_keeps_the_optimizer_in_bfloat16(trained_run, tmp_path):
    assert export(trained_run / 'last.pth', tmp_path / 'state.pth', '--train_state').returncode == 0
    state = load_checkpoint(tmp_path / 'state.pth')
    moments = [v for s in state['optimizer']['state'].values() for name, v in s.items() if name != 'step']
    assert moments and all(v.dtype == torch.bfloat16 for v in moments)
    assert state['iteration'] == load_checkpoint(trained_run / 'last.pth')['iteration']


def test_averaging_other_models_is_a_one_line_error(trained_run, tmp_path):
    other = tmp_path / 'other.pth'
    checkpoint = load_checkpoint(trained_run / 'last.pth')
    torch.save({**checkpoint, 'character': checkpoint['character'][::-1]}, other)
    result = export(trained_run / 'last.pth', tmp_path / 'avg.pth', '--average', other)
    assert result.returncode != 0 and 'not of the same model options and charset' in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'avg.pth').exists()


def test_a_model_file_names_its_decoding_and_a_flag_overrides_it(trained_run, tmp_path, monkeypatch):
    assert export(trained_run / 'last.pth', tmp_path / 'named.pth', '--decoding', 'beam:4:default:1.5').returncode == 0
    named = Recognizer.load(tmp_path / 'named.pth', amp='off', device='cpu')
    assert named.decoding.beam_size == 4 and named.decoding.lexicon_weight == 1.5
    assert '서울' in named.decoding.lexicon  # the shipped word list, read where the model is loaded
    assert Recognizer.load(trained_run / 'last.pth', amp='off', device='cpu').decoding == GREEDY  # names none
    assert Recognizer.load(tmp_path / 'named.pth', decoding=GREEDY, amp='off', device='cpu').decoding == GREEDY
    flags = ['--image_folder', str(REPO_DIR / 'demo_image'), '--saved_model', str(tmp_path / 'named.pth'),
             '--log_filename', str(tmp_path / 'log.txt'), '--workers', '0']
    seen = {}

    def read_batch(reader, images):  # what demo.py reads with, without running the beam search
        seen['decoding'] = reader.decoding
        return [''] * len(images), [0.0] * len(images)

    monkeypatch.setattr(Recognizer, 'read_batch', read_batch)
    demo.main(flags + ['--beam_size', '1'])
    assert seen.pop('decoding') == GREEDY
    demo.main(flags)
    assert seen.pop('decoding').beam_size == 4


def test_a_model_file_names_only_the_shipped_word_list(trained_run, tmp_path):
    words = tmp_path / 'words.txt'
    words.write_text('서울\n', encoding='utf-8')
    for spec, message in ((f'beam:8:{words}:2', 'only the shipped word list'), ('beam:0', 'use greedy, beam:N')):
        result = export(trained_run / 'last.pth', tmp_path / 'named.pth', '--decoding', spec)
        assert result.returncode != 0 and message in result.stderr and 'Traceback' not in result.stderr
        assert not (tmp_path / 'named.pth').exists()
