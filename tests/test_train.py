"""train.py / test.py on Korean word images rendered by the tests."""
import re
import subprocess
import sys

import pytest
import torch

import test as test_script
import train
from charset import read_character_file
from checkpoint import load_checkpoint
from conftest import SMALL_MODEL, train_args
from utils import REPO_DIR, UserError


def logged_losses(run_dir):
    text = (run_dir / 'log_train.txt').read_text(encoding='utf-8')
    return [float(v) for v in re.findall(r'Train loss: ([\d.]+)', text)]


def test_loss_falls_and_words_are_learned(trained_run, word_charset_file):
    losses = logged_losses(trained_run)
    assert len(losses) == 4  # iterations 1, 300, 600, 900
    assert losses[-1] < losses[0] / 3
    checkpoint = load_checkpoint(trained_run / 'best_accuracy.pth')
    assert checkpoint['best_accuracy'] > 10.0  # guessing one of the 20 words gives 5 %
    assert checkpoint['character'] == word_charset_file.read_text(encoding='utf-8').replace('\n', '')
    assert (trained_run / 'log_dataset.txt').read_text(encoding='utf-8').count('samples') >= 2


def test_checkpoint_is_self_describing_and_test_py_needs_no_model_flags(trained_run, word_lmdb, tmp_path):
    checkpoint = torch.load(trained_run / 'last.pth', weights_only=True)
    assert checkpoint['config']['FeatureExtraction'] == 'VGG' and checkpoint['iteration'] == 900
    assert 'optimizer' in checkpoint
    test_script.main(['--eval_data', str(word_lmdb / 'validation'), '--saved_model', str(trained_run / 'best_accuracy.pth'),
                      '--result_folder', str(tmp_path), '--workers', '0', '--quiet'])
    log = (tmp_path / trained_run.name / 'log_evaluation.txt').read_text(encoding='utf-8')
    accuracy = float(re.search(r'accuracy: ([\d.]+)', log).group(1))
    assert accuracy > 10.0 and '60 samples' in log


def test_runs_never_overwrite_each_other(word_lmdb, tmp_path):
    first = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--num_iter', '2', '--exp_name', 'same'))
    second = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--num_iter', '2', '--exp_name', 'same'))
    assert first.name == 'same' and second.name == 'same-2'
    assert (first / 'last.pth').exists() and (second / 'last.pth').exists()  # saved although no validation was due


def test_resume_continues_iteration_and_optimizer(word_lmdb, tmp_path):
    run = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--adam', '--num_iter', '20',
                                '--valInterval', '10', '--exp_name', 'r'))
    before = torch.load(run / 'last.pth', weights_only=True)
    resumed = train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(run / 'last.pth'), '--num_iter', '30'))
    assert resumed == run
    after = torch.load(run / 'last.pth', weights_only=True)
    assert before['iteration'] == 20 and after['iteration'] == 30
    steps = lambda ckpt: next(iter(ckpt['optimizer']['state'].values()))['step'].item()
    assert steps(before) == 20 and steps(after) == 30
    assert 'resuming at iteration 20' in (run / 'log_train.txt').read_text(encoding='utf-8')


def test_resume_keeps_the_runs_optimizer_options_unless_given_again(word_lmdb, tmp_path):
    run = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--adam', '--lr', '0.002', '--scheduler', 'cosine',
                                '--schedule_by', 'time', '--time_limit', '5', '--num_iter', '4', '--exp_name', 'o'))
    last = str(run / 'last.pth')
    with pytest.raises(UserError, match='--schedule_by time needs --time_limit'):
        train.main(train_args(word_lmdb, tmp_path, '--saved_model', last, '--num_iter', '6'))
    train.main(train_args(word_lmdb, tmp_path, '--saved_model', last, '--num_iter', '6', '--time_limit', '5'))
    kept = torch.load(last, weights_only=True)
    assert kept['iteration'] == 6 and kept['args']['lr'] == 0.002 and kept['args']['adam']
    train.main(train_args(word_lmdb, tmp_path, '--saved_model', last, '--num_iter', '8', '--time_limit', '5',
                          '--lr', '0.0005', '--schedule_by', 'iterations'))
    changed = torch.load(last, weights_only=True)
    assert changed['args']['lr'] == 0.0005 and changed['args']['schedule_by'] == 'iterations'
    assert 0 < changed['optimizer']['param_groups'][0]['lr'] <= 0.0005
    assert "with the run's adam True, beta1" in (run / 'log_train.txt').read_text(encoding='utf-8')


def test_resume_into_a_new_folder_keeps_its_own_best(trained_run, word_lmdb, tmp_path):
    """The checkpoint's best was measured on its run's validation data: a branch (--exp_name) writes its
    own best_accuracy.pth from its first validation instead of waiting to beat that figure."""
    start = load_checkpoint(trained_run / 'last.pth')
    run = train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(trained_run / 'last.pth'),
                                '--num_iter', '902', '--exp_name', 'branch'))
    assert run.parent == tmp_path and run.name == 'branch'
    best = load_checkpoint(run / 'best_accuracy.pth')
    assert best['iteration'] == 902 and start['best_accuracy'] > 10.0
    assert 'best_accuracy.pth and best_norm_ED.pth start afresh' in (run / 'log_train.txt').read_text(encoding='utf-8')


def test_resume_past_num_iter_is_a_clear_error(trained_run, word_lmdb, tmp_path):
    with pytest.raises(UserError, match='already ran 900 iterations'):
        train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(trained_run / 'last.pth'), '--num_iter', '100'))


def test_contradicting_flag_is_named(trained_run, word_lmdb, tmp_path):
    with pytest.raises(UserError, match='--FeatureExtraction ResNet contradicts .* FeatureExtraction=VGG'):
        train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(trained_run / 'last.pth'),
                              '--FeatureExtraction', 'ResNet', '--num_iter', '700'))


def test_finetune_to_another_charset(trained_run, word_lmdb, tmp_path):
    """--FT from the 20-word charset to the full Korean one: the head keeps its classes, the new ones start fresh."""
    run = train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(trained_run / 'best_accuracy.pth'), '--FT',
                                '--character_file', 'korean_charset.txt', '--num_iter', '3', '--exp_name', 'ft'))
    checkpoint = load_checkpoint(run / 'last.pth')
    korean = read_character_file(REPO_DIR / 'korean_charset.txt')
    assert checkpoint['iteration'] == 3 and checkpoint['character'] == ''.join(korean)
    log = (run / 'log_train.txt').read_text(encoding='utf-8')
    assert '(0 tensors re-initialised for --FT)' in log  # the head too: its 20-word classes carried over
    assert re.search(rf'new charset: \d+ of its {len(korean) + 1} classes carried over', log)
    assert 'decoding' not in checkpoint  # the start named none


def test_finetune_to_a_wider_input(trained_run, word_lmdb, tmp_path):
    """--FT may change the input geometry (every weight fits); a plain resume may not."""
    start = str(trained_run / 'best_accuracy.pth')
    with pytest.raises(UserError, match='--imgW 160 contradicts'):
        train.main(train_args(word_lmdb, tmp_path, '--saved_model', start, '--imgW', '160', '--num_iter', '700'))
    run = train.main(train_args(word_lmdb, tmp_path, '--saved_model', start, '--FT', '--imgW', '160', '--num_iter',
                                '2', '--exp_name', 'wide'))
    checkpoint = load_checkpoint(run / 'last.pth')
    assert checkpoint['config']['imgW'] == 160 and checkpoint['iteration'] == 2
    assert '(0 tensors re-initialised for --FT)' in (run / 'log_train.txt').read_text(encoding='utf-8')


def test_adadelta_at_an_adam_learning_rate_is_warned_of(word_lmdb, tmp_path):
    run = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--lr', '0.0003', '--num_iter', '1'))
    assert 'give --adam for Adam at this rate' in (run / 'log_train.txt').read_text(encoding='utf-8')
    run = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--adam', '--lr', '0.0003', '--num_iter', '1'))
    assert 'give --adam' not in (run / 'log_train.txt').read_text(encoding='utf-8')


def test_a_continued_model_keeps_the_decoding_its_start_names(trained_run, word_lmdb, tmp_path):
    start = load_checkpoint(trained_run / 'best_accuracy.pth')
    spec = {'beam_size': 4, 'lexicon': None, 'lexicon_weight': None}
    torch.save({**start, 'decoding': spec}, tmp_path / 'named.pth')
    run = train.main(train_args(word_lmdb, tmp_path, '--saved_model', str(tmp_path / 'named.pth'), '--FT',
                                '--num_iter', '2', '--exp_name', 'named'))
    assert load_checkpoint(run / 'last.pth')['decoding'] == spec


@pytest.mark.parametrize('prediction', ['CTC', 'Attn'])
def test_tps_resnet_bilstm_trains_and_evaluates(prediction, word_lmdb, tmp_path):
    run = train.main(train_args(word_lmdb, tmp_path, '--Transformation', 'TPS', '--FeatureExtraction', 'ResNet',
                                '--SequenceModeling', 'BiLSTM', '--Prediction', prediction, '--output_channel', '64',
                                '--hidden_size', '32', '--num_iter', '4', '--valInterval', '2'))
    assert run.name == f'TPS-ResNet-BiLSTM-{prediction}-Seed1111'
    losses = logged_losses(run)
    assert all(loss > 0 for loss in losses)
    test_script.main(['--eval_data', str(word_lmdb / 'validation'), '--saved_model', str(run / 'last.pth'),
                      '--result_folder', str(tmp_path / 'result'), '--workers', '0', '--quiet'])


def test_test_py_on_an_lmdb_without_num_samples_is_one_line(trained_run, tmp_path):
    import lmdb
    env = lmdb.open(str(tmp_path / 'broken'), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b'label-000000001', '가'.encode())
    env.close()
    result = subprocess.run([sys.executable, 'test.py', '--eval_data', str(tmp_path / 'broken'), '--saved_model',
                             str(trained_run / 'best_accuracy.pth'), '--result_folder', str(tmp_path / 'result')],
                            cwd=REPO_DIR, capture_output=True, text=True)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (f'error: LMDB {tmp_path / "broken"} has no num-samples key: '
                                                     'not a dataset written by create_lmdb_dataset.py')


def test_run_with_loader_workers_exits_when_done_or_failing(word_lmdb, tmp_path):
    """Loader workers ignore SIGTERM (a Ctrl-C or kill of the group is the main process's to handle), so
    they must be shut down explicitly, or the interpreter waits for them forever at exit."""
    command = [sys.executable, str(REPO_DIR / 'train.py'),
               *train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--num_iter', '3', '--exp_name', 'w')]
    command[command.index('--workers') + 1] = '1'
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    resumed = command + ['--saved_model', str(tmp_path / 'w' / 'last.pth')]  # already at --num_iter: an error
    finished = subprocess.run(resumed, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 2 and 'already ran 3 iterations' in finished.stderr
