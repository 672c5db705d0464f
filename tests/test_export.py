"""scripts/export_pretrained.py: what ships is what was trained, smaller."""
import subprocess
import sys

import torch

from checkpoint import load_checkpoint
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
