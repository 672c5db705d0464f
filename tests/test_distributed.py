"""torchrun: DistributedDataParallel on CPU (gloo) with two processes, against one process."""
import os
import re
import subprocess
import sys

import pytest
import torch

import train
from checkpoint import load_checkpoint
from conftest import REPO, SMALL_MODEL, train_args
from dataset import ShardedShuffleSampler


def train_losses(run_dir):
    text = (run_dir / 'log_train.txt').read_text(encoding='utf-8')
    return [float(v) for v in re.findall(r'Train loss: ([\d.]+)', text)]


def drawn_indices(run_dir, rank):
    lines = (run_dir / f'samples_rank{rank}.txt').read_text(encoding='utf-8').splitlines()
    return [int(line.split('\t')[1]) for line in lines]


def test_sharded_sampler_splits_an_epoch_and_matches_the_single_process_batches():
    single = list(ShardedShuffleSampler(103, seed=7))
    ranks = [list(ShardedShuffleSampler(103, rank=r, world_size=2, seed=7)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 51 and not set(ranks[0]) & set(ranks[1])
    for step in range(5):  # global batch 2 x 10 draws the same samples as one process with batch 20
        assert set(ranks[0][step * 10:(step + 1) * 10]) | set(ranks[1][step * 10:(step + 1) * 10]) == \
            set(single[step * 20:(step + 1) * 20])
    sampler = ShardedShuffleSampler(103, seed=7)
    assert list(sampler) != list(sampler)  # a new order every epoch


def test_torchrun_two_processes_on_cpu(word_lmdb, word_charset_file, tmp_path):
    common = [*SMALL_MODEL, '--character_file', str(word_charset_file), '--adam', '--lr', '0.001',
              '--num_iter', '24', '--valInterval', '6', '--saveInterval', '12', '--log_samples']
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO)}
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
               str(REPO / 'train.py'), *train_args(word_lmdb, tmp_path / 'ddp', *common, '--batch_size', '16',
                                                   '--exp_name', 'ddp')]
    command.remove('32')  # train_args' own --batch_size 32 is the single run's; drop its value ...
    command.remove('--batch_size')  # ... and flag, keeping the per-process 16 given above
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    run = tmp_path / 'ddp' / 'ddp'

    # both ranks trained, on disjoint samples
    rank0, rank1 = drawn_indices(run, 0), drawn_indices(run, 1)
    assert len(rank0) >= 24 * 16 and len(rank1) >= 24 * 16
    assert not set(rank0[:200]) & set(rank1[:200])  # 400 samples: one epoch is 200 per rank

    # rank 0 alone wrote the checkpoints and logs, which load anywhere
    assert sorted(p.name for p in run.iterdir() if p.suffix == '.pth') == \
        ['best_accuracy.pth', 'best_norm_ED.pth', 'last.pth']
    assert not list((tmp_path / 'ddp').glob('ddp-*'))
    checkpoint = load_checkpoint(run / 'last.pth')
    assert checkpoint['iteration'] == 24 and not any(k.startswith('module.') for k in checkpoint['model'])
    assert '2 processes (torchrun)' in (run / 'log_train.txt').read_text(encoding='utf-8')

    # the loss curve matches one process drawing the same global batches (batch 32)
    single = train.main(train_args(word_lmdb, tmp_path / 'single', *common, '--exp_name', 'single'))
    ddp_losses, single_losses = train_losses(run), train_losses(single)
    assert len(ddp_losses) == len(single_losses) == 5  # iterations 1, 6, 12, 18, 24
    assert ddp_losses == pytest.approx(single_losses, rel=0.05)
    assert ddp_losses[-1] < ddp_losses[0]


def test_resume_under_torchrun(word_lmdb, word_charset_file, tmp_path):
    first = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--character_file', str(word_charset_file),
                                  '--adam', '--num_iter', '4', '--exp_name', 'r'))
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO)}
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
               str(REPO / 'train.py'), '--train_data', str(word_lmdb / 'train'),
               '--valid_data', str(word_lmdb / 'validation'), '--saved_model', str(first / 'last.pth'),
               '--num_iter', '8', '--batch_size', '16', '--workers', '0', '--quiet']
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    after = torch.load(first / 'last.pth', weights_only=True)
    assert after['iteration'] == 8
    assert next(iter(after['optimizer']['state'].values()))['step'].item() == 8
