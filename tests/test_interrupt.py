"""No lost training: SIGTERM saves and exits cleanly; after kill -9 the resume loses at most one save interval."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import SMALL_MODEL, train_args

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def start_training():
    """Starts train.py in a subprocess; whatever the test's outcome, the process does not outlive it."""
    processes = []

    def start(word_lmdb, saved, *extra):
        command = [sys.executable, 'train.py', *train_args(word_lmdb, saved, *SMALL_MODEL, '--exp_name', 'run',
                                                           '--valInterval', '1000', '--saveInterval', '5', *extra)]
        processes.append(subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        return processes[-1]
    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_for_iteration(checkpoint, at_least, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert process.poll() is None, process.communicate()[1]
        if checkpoint.exists():
            try:
                iteration = torch.load(checkpoint, weights_only=True)['iteration']
            except Exception:  # noqa: BLE001 - the rename is atomic, so this would be a real failure below
                raise AssertionError(f'{checkpoint} could not be read while training runs')
            if iteration >= at_least:
                return iteration
        time.sleep(0.2)
    raise AssertionError(f'no checkpoint at iteration {at_least} within {timeout} s')


def test_sigterm_saves_and_resume_continues(start_training, word_lmdb, tmp_path):
    process = start_training(word_lmdb, tmp_path, '--num_iter', '100000')
    last = tmp_path / 'run' / 'last.pth'
    wait_for_iteration(last, 5, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and 'Traceback' not in stderr
    stopped_at = torch.load(last, weights_only=True)['iteration']
    assert f'stopped at iteration {stopped_at} (SIGTERM)' in (tmp_path / 'run' / 'log_train.txt').read_text(encoding='utf-8')

    resumed = subprocess.run([sys.executable, 'train.py', *train_args(word_lmdb, tmp_path, '--saved_model', str(last),
                                                                      '--num_iter', str(stopped_at + 3))],
                             cwd=REPO, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(last, weights_only=True)['iteration'] == stopped_at + 3


def test_kill_9_loses_at_most_one_save_interval(start_training, word_lmdb, tmp_path):
    process = start_training(word_lmdb, tmp_path, '--num_iter', '100000')
    last = tmp_path / 'run' / 'last.pth'
    saved_iteration = wait_for_iteration(last, 5, process)
    process.kill()  # SIGKILL: no handler runs
    process.communicate(timeout=60)
    checkpoint = torch.load(last, weights_only=True)  # never torn: written to a temp file, then renamed
    assert checkpoint['iteration'] >= saved_iteration and checkpoint['iteration'] % 5 == 0
    resumed = subprocess.run([sys.executable, 'train.py', *train_args(word_lmdb, tmp_path, '--saved_model', str(last),
                                                                      '--num_iter', str(checkpoint['iteration'] + 2))],
                             cwd=REPO, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert torch.load(last, weights_only=True)['iteration'] == checkpoint['iteration'] + 2
