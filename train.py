"""Step 4: train a recogniser on LMDB data.

    python3 train.py --train_data data_lmdb/train --valid_data data_lmdb/validation \
        --Transformation TPS --FeatureExtraction ResNet --SequenceModeling BiLSTM --Prediction CTC

Each run writes to its own folder under saved_models/ (a name that exists gets -2, -3, ...):
log_train.txt, log_dataset.txt, opt.txt, curves.png, best_accuracy.pth, best_norm_ED.pth and last.pth.
`--saved_model saved_models/<run>/last.pth` resumes a run where it stopped.

Several GPUs: `CUDA_VISIBLE_DEVICES=0,1,2,3 python3 train.py ...` (DataParallel, one process), or
`torchrun --nproc_per_node=4 train.py ...` (DistributedDataParallel, one process per GPU; --batch_size
is then per process). Under torchrun, rank 0 alone validates, logs and writes checkpoints.
"""
import argparse
import contextlib
import fcntl
import logging
import os
import random
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from checkpoint import (atomic_save, carry_over_classes, is_run_folder, load_checkpoint, load_optimizer_state,
                        load_weights, make_checkpoint)
from cli import ArgumentParser, dash_separated, fraction, non_negative_int, output_folder, positive_float, positive_int
from curves import plot_log
from dataset import (AlignCollate, Batch_Balanced_Dataset, default_workers, hierarchical_dataset, ignore_stop_signals,
                     lmdb_sources)
from distributed import (any_process, device_of, init_process, mean_over_processes, share_from_main, shutdown,
                         wait_for_all)
from evaluate import format_predictions, validate
from heads import make_head
from model import Model
from optimization import (OptimizerOptions, add_optimizer_arguments, check_schedule, learning_rate, lr_warning,
                          resumed_options)
from options import add_model_arguments, resolve_setup
from precision import add_amp_arguments, channels_last_pays, resolve_precision
from safe_files import new_folder
from utils import Averager, UserError, also_log_to, run_main, setup_logging


def build_parser():
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--exp_name', help='run folder name under saved_models/ (default: stages-Seed<seed>)')
    parser.add_argument('--saved_folder', type=output_folder, default='saved_models', help='where run folders are made')
    parser.add_argument('--train_data', required=True, help='folder of training LMDB(s)')
    parser.add_argument('--valid_data', required=True, help='folder of validation LMDB(s)')
    parser.add_argument('--manualSeed', type=int, default=1111, help='random seed')
    parser.add_argument('--workers', type=non_negative_int, default=default_workers(),
                        help='data loader processes in all, shared among --select_data sources by --batch_ratio')
    parser.add_argument('--batch_size', type=positive_int, default=192, help='batch size (per process)')
    parser.add_argument('--num_iter', type=positive_int, default=300000, help='number of iterations to train for')
    parser.add_argument('--valInterval', type=positive_int, default=2000, help='validate every this many iterations')
    parser.add_argument('--saveInterval', type=positive_int, default=1000, help='write last.pth every this many iterations')
    parser.add_argument('--time_limit', type=positive_float, default=None,
                        help='stop (saving last.pth) after this many minutes of training')
    parser.add_argument('--saved_model', default='', help='checkpoint to resume from or fine-tune (--FT)')
    parser.add_argument('--FT', action='store_true', help='fine-tune: load the weights that fit, start a new run')
    add_optimizer_arguments(parser)
    add_amp_arguments(parser, dtype_choice=True)
    parser.add_argument('--select_data', default='/', help="sub-folders of --train_data to draw from, '-'-separated")
    parser.add_argument('--batch_ratio', type=dash_separated(positive_float), default='1', help="share of each batch per --select_data part, '-'-separated")
    parser.add_argument('--total_data_usage_ratio', type=fraction, default=1.0, help='fraction of each dataset used')
    parser.add_argument('--data_filtering_off', action='store_true', help='keep samples the charset cannot encode')
    parser.add_argument('--quiet', action='store_true', help='no progress bar, warnings only on the console')
    parser.add_argument('--log_samples', action='store_true',
                        help='write samples_rank<N>.txt: the dataset index of every training sample each process '
                             'drew (to audit how torchrun shards the data)')
    add_model_arguments(parser)
    return parser


def parse_args(argv=None):
    """The options, and the set of those the command line gave (a resumed run keeps its own for the rest)."""
    parser = build_parser()
    opt = parser.parse_args(argv)
    unset = object()  # argparse fills in a default only where the namespace lacks the attribute
    probe = parser.parse_args(argv, namespace=argparse.Namespace(**{key: unset for key in vars(opt)}))
    return opt, {key for key, value in vars(probe).items() if value is not unset}


# ---------------------------------------------------------------- run folder

def unique_run_dir(saved_folder, name):
    """saved_models/<name>, or <name>-2, -3 ... when taken (made atomically): runs never overwrite each other."""
    return new_folder(Path(saved_folder) / name)


def choose_run_dir(opt, config, resuming, checkpoint):
    """A resumed run continues in its own run folder; any other run (and a resume of a model kept outside
    a run folder, e.g. pretrained_models/) gets a new one under --saved_folder."""
    if resuming and not opt.exp_name and is_run_folder(Path(opt.saved_model).resolve().parent):
        run_dir = Path(opt.saved_model).resolve().parent
        refuse_stale_resume(run_dir, Path(opt.saved_model).resolve(), checkpoint.get('iteration', 0))
        return run_dir
    return unique_run_dir(opt.saved_folder, opt.exp_name or f'{config.name}-Seed{opt.manualSeed}')


def refuse_stale_resume(run_dir, resumed_from, iteration):
    """Resuming in place from best_accuracy.pth (or any older file) would overwrite the folder's newer
    last.pth with an older iteration: refused unless the user branches off (--exp_name) or fine-tunes."""
    last = run_dir / 'last.pth'
    if not last.is_file() or last == resumed_from:
        return
    try:
        last_iteration = load_checkpoint(last).get('iteration', 0)
    except UserError:
        return  # an unreadable last.pth holds nothing to lose
    if last_iteration > iteration:
        raise UserError(f'{run_dir}/last.pth is at iteration {last_iteration}, newer than the {iteration} of '
                        f'{resumed_from.name}; resuming here would overwrite it. Resume from last.pth, or give '
                        '--exp_name to continue from this checkpoint in a new folder (or --FT)')


class RunLock:
    """An exclusive lock on a run folder for the life of the training process: a second train.py on the
    same folder (two resumes of one run) stops with an error instead of writing into it too."""

    def __init__(self, run_dir):
        self.handle = open(run_dir / '.lock', 'a+', encoding='utf-8')
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or 'another process'
            self.handle.close()
            raise UserError(f'run folder {run_dir} is in use by train.py ({holder}); wait for it or give '
                            '--exp_name') from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f'pid {os.getpid()}')
        self.handle.flush()

    def release(self):
        self.handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def build_data(opt, config, characters, device, process):
    """The balanced training batches (this process's shard of them) and the validation loader."""
    rgb = config.input_channel == 3
    sources = lmdb_sources(opt.train_data, opt.select_data.split('-'), opt.batch_ratio.split('-'), characters,
                           opt.total_data_usage_ratio, opt.manualSeed, rgb=rgb,
                           batch_max_length=config.batch_max_length, data_filtering_off=opt.data_filtering_off)
    train_batches = Batch_Balanced_Dataset(sources, opt.batch_size, AlignCollate(config.imgH, config.imgW, opt.PAD),
                                           workers=opt.workers, seed=opt.manualSeed, rank=process.rank,
                                           world_size=process.world_size, trace=opt.log_samples)
    if not process.is_main:
        return train_batches, None
    valid_dataset, _ = hierarchical_dataset(opt.valid_data, characters, rgb=rgb,
                                            batch_max_length=config.batch_max_length,
                                            data_filtering_off=opt.data_filtering_off)
    if len(valid_dataset) == 0:
        raise UserError(f'no usable validation sample in {opt.valid_data}')
    valid_loader = DataLoader(valid_dataset, batch_size=opt.batch_size, shuffle=False, num_workers=opt.workers,
                              collate_fn=AlignCollate(config.imgH, config.imgW, opt.PAD),
                              pin_memory=device.type == 'cuda', worker_init_fn=ignore_stop_signals)
    return train_batches, valid_loader


# ---------------------------------------------------------------- stopping

class StopRequest:
    """SIGINT/SIGTERM set a flag; the loop then saves last.pth and exits cleanly."""

    def __init__(self):
        self.signal = None
        self.previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore(self):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame):
        if self.signal is not None:
            raise KeyboardInterrupt  # a second signal stops at once
        self.signal = signal.Signals(signum).name

    def __bool__(self):
        return self.signal is not None


CURVES_INTERVAL_S = 120  # matplotlib takes 2-4 s a drawing on 2 cores: a short run draws its curves at the end


def draw_curves(run_dir):
    """curves.png from the run's own log_train.txt, so a resumed run's curves include its past."""
    try:
        plot_log(run_dir / 'log_train.txt', run_dir / 'curves.png', title=run_dir.name)
    except Exception as error:  # a plotting failure must never stop training
        logging.getLogger('kocrnn').warning('curves.png not drawn: %s', error)


def write_sample_log(run_dir, train_batches, process):
    lines = [f'{source}\t{index}\n' for source, drawn in train_batches.drawn.items() for index in drawn or []]
    (run_dir / f'samples_rank{process.rank}.txt').write_text(''.join(lines), encoding='utf-8')


def wrap_model(model, device, process):
    if process.distributed:
        device_ids = [device.index] if device.type == 'cuda' else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
    if device.type == 'cuda' and torch.cuda.device_count() > 1:
        return nn.DataParallel(model)
    return model


def main(argv=None):
    opt, given = parse_args(argv)
    process = init_process()
    try:
        with contextlib.ExitStack() as held:  # the run folder's lock, released however the run ends
            return train(opt, process, given, held)
    finally:
        shutdown(process)


def finetune_weights(checkpoint, model, config, head, log):
    """The checkpoint's weights for --FT: to another charset with the same head, the classes both charsets
    hold keep what they learnt (checkpoint.carry_over_classes); only the new ones start fresh."""
    stored_characters, stored = checkpoint.get('character'), checkpoint.get('config') or {}
    if not stored_characters or stored.get('Prediction') != config.Prediction:
        return checkpoint['model']
    old_classes = make_head(config.Prediction, stored_characters).converter.character
    if old_classes == head.converter.character:
        return checkpoint['model']
    weights, carried = carry_over_classes(checkpoint['model'], model, head.class_axes, old_classes,
                                          head.converter.character)
    log.info('new charset: %d of its %d classes carried over from the checkpoint, %d new', carried,
             len(head.converter.character), len(head.converter.character) - carried)
    return weights


def train(opt, process, given, held):
    # ---- configuration
    checkpoint = load_checkpoint(opt.saved_model) if opt.saved_model else None
    resuming = bool(checkpoint and 'optimizer' in checkpoint and not opt.FT)
    config, characters = resolve_setup(opt, checkpoint, finetune=opt.FT)
    optimizer_options, restored = resumed_options(opt, checkpoint, given) if resuming else \
        (OptimizerOptions.from_args(opt), [])
    vars(opt).update(optimizer_options.to_dict())  # opt.txt shows what the run uses
    check_schedule(optimizer_options, opt.time_limit)
    opt.PAD = opt.PAD or bool((checkpoint or {}).get('PAD'))
    head = make_head(config.Prediction, characters, config.batch_max_length)
    run_dir = share_from_main(choose_run_dir(opt, config, resuming, checkpoint) if process.is_main else None,
                              process)
    if process.is_main:
        held.enter_context(RunLock(run_dir))
    log = setup_logging(run_dir / 'log_train.txt' if process.is_main else None,
                        quiet=opt.quiet or not process.is_main)
    seed_everything(opt.manualSeed)
    device = device_of(process)
    precision = resolve_precision(opt.amp, device, opt.amp_dtype)
    torch.backends.cudnn.benchmark = True  # input sizes are fixed (imgH x imgW)
    log.info('run folder %s, model %s, %d classes, device %s%s', run_dir, config.name, config.num_class, device,
             f', {process.world_size} processes (torchrun)' if process.distributed else '')
    if process.is_main:
        (run_dir / 'opt.txt').write_text(
            '------------ Options -------------\n'
            + ''.join(f'{k}: {v}\n' for k, v in vars(opt).items()) + f'num_class: {config.num_class}\n'
            + '---------------------------------------\n', encoding='utf-8')

    # ---- data
    with also_log_to(run_dir / 'log_dataset.txt') if process.is_main else contextlib.nullcontext():
        train_batches, valid_loader = build_data(opt, config, characters, device, process)

    # ---- model
    model = Model(config)
    if checkpoint:
        weights = finetune_weights(checkpoint, model, config, head, log) if opt.FT else checkpoint['model']
        left_out = load_weights(model, weights, opt.saved_model, finetune=opt.FT)
        log.info('loaded %s%s', opt.saved_model, f' ({left_out} tensors re-initialised for --FT)' if opt.FT else '')
    # a model continued or fine-tuned from one that names its decoding is read the same way (decoding.py)
    inherited = {'decoding': checkpoint['decoding']} if checkpoint and checkpoint.get('decoding') else {}
    if channels_last_pays(device, config.FeatureExtraction):
        model.use_channels_last()
    model = wrap_model(model.to(device), device, process)
    bare_model = model.module if hasattr(model, 'module') else model  # validation runs on rank 0 alone
    model.train()
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info('Trainable params num : %d', n_params)

    # ---- optimizer
    criterion = head.criterion(device)
    optimizer = optimizer_options.build([p for p in model.parameters() if p.requires_grad])
    scaler = torch.amp.GradScaler(device.type, enabled=precision.needs_grad_scaler)
    log.info('precision: %s%s%s', precision, ', with a grad scaler' if scaler.is_enabled() else '',
             ', feature extractor in channels-last memory' if bare_model.channels_last else '')
    warning = lr_warning(optimizer_options)
    if warning:
        log.warning(warning)
    start_iter, best_accuracy, best_norm_ED = 0, -1.0, -1.0
    if resuming:
        load_optimizer_state(optimizer, checkpoint['optimizer'], opt.saved_model)
        start_iter = checkpoint.get('iteration', 0)
        in_place = Path(run_dir).resolve() == Path(opt.saved_model).resolve().parent
        if in_place:
            best_accuracy = checkpoint.get('best_accuracy', -1.0)
            best_norm_ED = checkpoint.get('best_norm_ED', -1.0)
        else:  # its best belongs to the run it came from (maybe other validation data): this folder keeps its own
            log.info('new run folder: best_accuracy.pth and best_norm_ED.pth start afresh (the checkpoint\'s '
                     'best, %.3f, belongs to the run it came from)', checkpoint.get('best_accuracy', -1.0))
        log.info('resuming at iteration %d (best accuracy %.3f) with the run\'s %s', start_iter, best_accuracy,
                 ', '.join(f'{key} {getattr(opt, key)}' for key in restored) or 'options as given')
    if start_iter >= opt.num_iter:
        raise UserError(f'{opt.saved_model} already ran {start_iter} iterations; raise --num_iter to continue')

    def save(name, iteration):
        atomic_save(make_checkpoint(model, config, characters, PAD=opt.PAD, iteration=iteration,
                                    optimizer=optimizer.state_dict(), optimizer_options=optimizer_options.to_dict(),
                                    best_accuracy=best_accuracy, best_norm_ED=best_norm_ED,
                                    args={k: v for k, v in vars(opt).items()}, **inherited), run_dir / name)

    # ---- the loop
    stop = StopRequest()
    loss_avg = Averager()
    start_time = time.perf_counter()
    iteration = start_iter
    interval_start, interval_images = start_time, 0  # training speed between validations
    curves_time, curves_stale = start_time, False  # curves.png: when last drawn, and whether a validation came since
    progress = tqdm(total=opt.num_iter, initial=start_iter, desc='train', unit='it',
                    disable=True if opt.quiet or not process.is_main else None)
    while iteration < opt.num_iter:
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(optimizer_options, iteration, time.perf_counter() - start_time,
                                        opt.num_iter, opt.time_limit)
        images, labels = train_batches.get_batch()
        images = images.to(device, non_blocking=True)
        with precision.autocast():
            cost = head.loss(model, criterion, images, labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(cost).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), optimizer_options.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        loss_avg.add(cost)
        interval_images += images.size(0) * process.world_size
        iteration += 1
        progress.update(1)
        if iteration % 20 == 0 and not progress.disable:  # .item() waits for the GPU: not every step
            progress.set_postfix(loss=f'{cost.item():.4f}', refresh=False)

        elapsed = time.perf_counter() - start_time
        out_of_time = opt.time_limit is not None and elapsed > opt.time_limit * 60
        signalled, out_of_time = any_process([stop, out_of_time], process, device)  # all ranks stop together
        stopping = signalled or out_of_time
        finishing = iteration == opt.num_iter or (out_of_time and not signalled)
        if iteration % opt.valInterval == 0 or iteration == 1 or finishing:  # not on a signal: stop promptly
            train_loss = mean_over_processes(loss_avg.val(), process, device)  # waits for the GPU: timing is fair
            speed = interval_images / (time.perf_counter() - interval_start)
            loss_avg.reset()
            if process.is_main:
                result = validate(bare_model, head, criterion, valid_loader, device, precision)
                if result.accuracy > best_accuracy:
                    best_accuracy = result.accuracy
                    save('best_accuracy.pth', iteration)
                if result.norm_ED > best_norm_ED:
                    best_norm_ED = result.norm_ED
                    save('best_norm_ED.pth', iteration)
                log.info('[%d/%d] Train loss: %0.5f, Valid loss: %0.5f, Elapsed_time: %0.5f',
                         iteration, opt.num_iter, train_loss, result.loss, elapsed)
                log.info('%-18s: %0.3f, %-17s: %0.2f, %-7s: %0.4f', 'Current_accuracy', result.accuracy,
                         'Current_norm_ED', result.norm_ED, 'CER', result.cer)
                log.info('%-18s: %0.3f, %-17s: %0.2f', 'Best_accuracy', best_accuracy, 'Best_norm_ED', best_norm_ED)
                log.info(format_predictions(result))
                log.info('Train speed: %.1f images/s since the last validation', speed)
                curves_stale = True
                if finishing or time.perf_counter() - curves_time >= CURVES_INTERVAL_S:
                    draw_curves(run_dir)
                    curves_time, curves_stale = time.perf_counter(), False
            interval_start, interval_images = time.perf_counter(), 0
        if process.is_main and (iteration % opt.saveInterval == 0 or finishing or stopping):
            save('last.pth', iteration)
        if stopping:
            log.info('stopped at iteration %d (%s); resume with --saved_model %s', iteration,
                     (stop.signal or 'a signal to another process') if signalled else f'--time_limit {opt.time_limit} min',
                     run_dir / 'last.pth')
            break
    if process.is_main and curves_stale:
        draw_curves(run_dir)
    progress.close()
    stop.restore()
    train_batches.close()
    if opt.log_samples:
        write_sample_log(run_dir, train_batches, process)
    wait_for_all(process)  # rank 0's last save is complete before any process exits
    log.info('done: %d iterations, best accuracy %.3f, best norm_ED %.4f, models in %s',
             iteration, best_accuracy, best_norm_ED, run_dir)
    return run_dir


if __name__ == '__main__':
    run_main(main)
