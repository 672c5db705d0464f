"""Training speed on this machine, kocrnn beside dtrb in the same run, and where an iteration's time goes.

    python3 bench/bench_speed.py [--dtrb DIR] [--configs shipped TPS-ResNet-BiLSTM-CTC] [--repeats 3]
                                 [--profile] [--demo_images 300] [--accuracy_iterations N]

- The machine: its CPU flags and its matrix-product ceiling in fp32 and, where the CPU runs it natively,
  bf16 (a 2048 x 2048 product on all torch threads).
- Per configuration, train.py run as a user runs it (a whole process, default --amp and --workers, batch
  32) on one rendered LMDB: the seconds of the whole process for the configuration's iterations (start-up
  and validation included), and the steady-state images/s (the difference between a run of N and one of
  2N iterations, so start-up cancels out). From the steady state: GFLOP/s and the share of this machine's
  ceiling, with the GFLOP of an image counted by torch's FlopCounterMode plus the LSTMs' matrix products
  (which FlopCounterMode does not see).
- With --dtrb DIR (a checkout of clovaai/deep-text-recognition-benchmark; none of its code is part of
  kocrnn), dtrb's own train.py on the same LMDB with the same options, alternated with kocrnn's, for the
  ratio. It runs beside torch 2.13 through four stand-ins the bench writes into its temporary folder
  (torchvision's ToTensor, six.BytesIO, nltk's edit_distance, torch._utils._accumulate), since dtrb's
  imports predate them; its model, loop and data path are its own.
- --profile: the share of each part of a training iteration of each configuration (waiting for data,
  the network's operations by kind, the optimiser), from torch's profiler over the train.py loop's parts.
- demo.py's whole-process images/s through PyTorch and through ONNX Runtime (--demo_images, 0 to skip),
  and with --accuracy_iterations N the validation accuracy after N iterations, fp32 and --amp, so no
  speed-up may cost accuracy.
Speeds are comparable only within one run: the CPU differs between machines and sessions.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from charset import load_charset  # noqa: E402
from checkpoint import atomic_save, make_checkpoint  # noqa: E402
from dataset import AlignCollate, Batch_Balanced_Dataset, default_workers, lmdb_sources  # noqa: E402
from heads import HEADS, make_head  # noqa: E402
from model import Model, ModelConfig  # noqa: E402
from optimization import OptimizerOptions  # noqa: E402
from precision import channels_last_pays, cpu_flags, cpu_has_bf16, resolve_precision  # noqa: E402
from synth.fonts import korean_fonts  # noqa: E402
from synth.render import render_word  # noqa: E402
from synth.words import TextSampler  # noqa: E402

BATCH = 32
# name -> (train.py model flags, iterations of the whole-process run): the shipped model's shape, and dtrb's
# defaults for its best-known configuration.
CONFIGS = {
    'shipped': (['--Transformation', 'None', '--FeatureExtraction', 'VGG', '--SequenceModeling', 'BiLSTM',
                 '--Prediction', 'CTC', '--output_channel', '256', '--hidden_size', '256', '--imgW', '128', '--PAD'],
                160),
    'TPS-ResNet-BiLSTM-CTC': (['--Transformation', 'TPS', '--FeatureExtraction', 'ResNet', '--SequenceModeling',
                               'BiLSTM', '--Prediction', 'CTC'], 20),  # 10 vs 20 left start-up noise larger than the difference
    'None-VGG-BiLSTM-CTC': (['--Transformation', 'None', '--FeatureExtraction', 'VGG', '--SequenceModeling',
                             'BiLSTM', '--Prediction', 'CTC'], 40),
}
DTRB_STAND_INS = {  # module path -> source: what dtrb imports that torch 2.13's environment lacks
    'torchvision/__init__.py': '',
    'torchvision/transforms.py': (
        'import numpy as np\nimport torch\n\n\nclass ToTensor:\n    def __call__(self, image):\n'
        '        array = np.asarray(image, dtype=np.float32) / 255.0\n'
        '        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)\n'
        '        return torch.from_numpy(np.ascontiguousarray(array))\n'),
    'six.py': 'from io import BytesIO  # noqa: F401\n',
    'nltk/__init__.py': '',
    'nltk/metrics/__init__.py': '',
    'nltk/metrics/distance.py': ('from rapidfuzz.distance import Levenshtein\n\n\ndef edit_distance(a, b):\n'
                                 '    return Levenshtein.distance(a, b)\n'),
    'sitecustomize.py': 'import itertools\nimport torch._utils\ntorch._utils._accumulate = itertools.accumulate\n',
}


def flag_value(flags, name, default):
    return flags[flags.index(name) + 1] if name in flags else default


def model_config(flags, characters):
    stages = {stage: flag_value(flags, f'--{stage}', None) for stage in
              ('Transformation', 'FeatureExtraction', 'SequenceModeling', 'Prediction')}
    return ModelConfig(num_class=HEADS[stages['Prediction']].num_class(characters), **stages,
                       output_channel=int(flag_value(flags, '--output_channel', 512)),
                       hidden_size=int(flag_value(flags, '--hidden_size', 256)),
                       imgW=int(flag_value(flags, '--imgW', 100)))


def render_samples(characters, count, seed=0):
    rng = random.Random(seed)
    fonts = korean_fonts(characters, names=['NanumGothic', 'UnDotum', 'NanumMyeongjo'])
    sampler = TextSampler(characters, max_length=10)
    samples = []
    for _ in range(count):
        font = rng.choice(fonts)
        text = sampler.sample(rng, font.can_draw)
        samples.append((render_word(text, font, rng).convert('L'), text))
    return samples


def make_lmdb(work, characters, counts=(('train', 2000, 1), ('validation', 200, 2))):
    """A rendered training and validation LMDB, written by create_lmdb_dataset.py as a user would."""
    data = work / 'fixed_set'
    for split, count, seed in counts:
        folder = data / 'images' / split
        folder.mkdir(parents=True)
        lines = []
        for index, (image, text) in enumerate(render_samples(characters, count, seed)):
            image.save(folder / f'{index}.png')
            lines.append(f'{index}.png\t{text}\n')
        (folder / 'gt.txt').write_text(''.join(lines), encoding='utf-8')
        subprocess.run([sys.executable, 'create_lmdb_dataset.py', '--inputPath', str(folder), '--gtFile',
                        str(folder / 'gt.txt'), '--outputPath', str(data / 'lmdb' / split), '--quiet'],
                       check=True, cwd=REPO, capture_output=True)
    return data / 'lmdb' / 'train', data / 'lmdb' / 'validation'


# ---------------------------------------------------------------- the roofline

def matmul_gflops(dtype, size=2048, repeats=5):
    """This machine's matrix-product ceiling: GFLOP/s of a large square product on all torch threads."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def lstm_gflop(config, frames):
    """Forward GFLOP of one image's BiLSTMs: per frame, direction and layer, the four gates' products with
    the input and the hidden state, and the layer's output projection."""
    if config.SequenceModeling != 'BiLSTM':
        return 0.0
    hidden, total = config.hidden_size, 0
    for input_size in (config.output_channel, hidden):
        total += frames * (2 * 2 * 4 * hidden * (input_size + hidden) + 2 * 2 * hidden * hidden)
    return total / 1e9


def gflop_per_image(config, characters):
    """(training, inference) GFLOP of one image: convolutions and matrix products as FlopCounterMode counts
    them, plus the LSTMs' (forward once at inference; forward and two backward products in training)."""
    from torch.utils.flop_counter import FlopCounterMode
    head = make_head(config.Prediction, characters, config.batch_max_length)
    images = torch.rand(2, config.input_channel, config.imgH, config.imgW) * 2 - 1
    labels = ['가나다', '라마']
    figures = []
    for train in (True, False):
        model = Model(config).train(train)
        counter = FlopCounterMode(display=False)
        with counter:
            if train:
                head.loss(model, head.criterion(torch.device('cpu')), images, labels).backward()
            else:
                with torch.no_grad():
                    frames = head.scores(model, images).size(1)
        figures.append(counter.get_total_flops() / images.size(0) / 1e9)
    recurrent = lstm_gflop(config, frames)
    return figures[0] + 3 * recurrent, figures[1] + recurrent


# ---------------------------------------------------------------- whole processes

def write_stand_ins(folder):
    for relative, source in DTRB_STAND_INS.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding='utf-8')


def kocrnn_command(flags, iterations, train, valid, work, name):
    return [sys.executable, str(REPO / 'train.py'), '--train_data', str(train), '--valid_data', str(valid),
            *flags, '--batch_size', str(BATCH), '--num_iter', str(iterations), '--valInterval', '2000',
            '--saved_folder', str(work / 'kocrnn_runs'), '--exp_name', name, '--quiet']


def dtrb_command(dtrb, flags, iterations, train, valid, characters, name):
    return [sys.executable, str(dtrb / 'train.py'), '--train_data', str(train), '--valid_data', str(valid),
            '--select_data', '/', '--batch_ratio', '1', *flags, '--batch_size', str(BATCH),
            '--num_iter', str(iterations), '--valInterval', '2000', '--character', ''.join(characters),
            '--exp_name', name]


def run_seconds(command, cwd, env=None):
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise SystemExit(f'{Path(command[1]).parent.name}/train.py failed: ' + ' | '.join(tail))
    return time.perf_counter() - start


def whole_processes(programs, iterations, repeats):
    """{program: (median seconds of N iterations, median steady-state images/s)}; the programs alternate,
    run by run, so a machine that slows down during the bench slows all of them alike."""
    seconds = {name: {iterations: [], 2 * iterations: []} for name in programs}
    run = 0
    for _ in range(repeats):
        for length in (iterations, 2 * iterations):
            for name, (make_command, cwd, env) in programs.items():
                run += 1
                seconds[name][length].append(run_seconds(make_command(length, f'run{run}'), cwd, env))
    figures = {}
    for name, by_length in seconds.items():
        short, long = statistics.median(by_length[iterations]), statistics.median(by_length[2 * iterations])
        steady = BATCH * iterations / (long - short) if long > short else float('nan')
        figures[name] = (short, steady)
    return figures


# ---------------------------------------------------------------- the profile

CATEGORIES = (  # (label, substrings of aten op names), first match wins
    ('convolution', ('conv',)),
    ('LSTM', ('rnn', 'lstm')),
    ('pooling', ('pool',)),
    ('batch norm', ('batch_norm',)),
    ('ReLU', ('relu', 'threshold', 'clamp_min')),
    ('TPS (grid, sampling)', ('grid_sampler', 'affine_grid', 'bmm')),
    ('prediction layer (linear)', ('addmm', 'aten::mm', 'linear', 'matmul')),
    ('softmax + CTC loss', ('softmax', 'ctc', 'nll', 'cross_entropy')),
    ('casts and copies', ('copy_', '_to_copy', 'to_dense', 'contiguous', 'clone')),
)


def categorise(name):
    for label, keys in CATEGORIES:
        if any(key in name for key in keys):
            return label
    return 'other operations'


def profile_iteration(flags, train, characters, channels_last, steps=12, warmup=3):
    """Shares of a training iteration as train.py runs it: the wait for the next batch (the real balanced
    loader with train.py's default workers), the optimiser step with gradient clipping, and the network's
    forward and backward operations by kind (self CPU time in torch's profiler). channels_last: the feature
    extractor's memory layout (train.py's choice is precision.channels_last_pays)."""
    from torch.profiler import ProfilerActivity, profile
    config = model_config(flags, characters)
    device = torch.device('cpu')
    precision = resolve_precision('auto', device)
    pad = '--PAD' in flags
    sources = lmdb_sources(train, ['/'], ['1'], characters, batch_max_length=config.batch_max_length)
    batches = Batch_Balanced_Dataset(sources, BATCH, AlignCollate(config.imgH, config.imgW, pad),
                                     workers=default_workers())
    head = make_head(config.Prediction, characters, config.batch_max_length)
    model = Model(config).use_channels_last(channels_last).train()
    criterion = head.criterion(device)
    optimizer = OptimizerOptions().build(model.parameters())
    phases = Counter()

    def step(timed):
        start = time.perf_counter()
        images, labels = batches.get_batch()
        loaded = time.perf_counter()
        with precision.autocast():
            cost = head.loss(model, criterion, images, labels)
        optimizer.zero_grad(set_to_none=True)
        cost.backward()
        computed = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        optimizer.step()
        done = time.perf_counter()
        if timed:
            phases['waiting for data'] += loaded - start
            phases['network'] += computed - loaded
            phases['optimiser + clipping'] += done - computed

    for _ in range(warmup):
        step(False)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            step(True)
    batches.close()
    by_kind = Counter()
    for event in profiler.key_averages():
        if event.key.startswith('aten::') or event.key.startswith('mkldnn'):
            by_kind[categorise(event.key)] += event.self_cpu_time_total
    total_ops = sum(by_kind.values()) or 1
    wall = sum(phases.values())
    shares = {'waiting for data': phases['waiting for data'] / wall,
              'optimiser + clipping': phases['optimiser + clipping'] / wall}
    for kind, micros in by_kind.items():
        shares[kind] = phases['network'] / wall * micros / total_ops
    return BATCH * steps / wall, str(precision), shares


# ---------------------------------------------------------------- demo.py

def measure_demo(flags, characters, folder, work):
    """demo.py images/s, whole process, for PyTorch and for ONNX Runtime (export not timed)."""
    config = model_config(flags, characters)
    torch.manual_seed(0)
    checkpoint = work / 'demo_model.pth'
    atomic_save(make_checkpoint(Model(config), config, characters, PAD='--PAD' in flags), checkpoint)
    count = len(list(folder.glob('*.png')))
    common = [sys.executable, 'demo.py', '--image_folder', str(folder), '--batch_size', '192', '--quiet',
              '--log_filename', str(work / 'demo_log.txt')]
    torch_seconds = run_seconds(common + ['--saved_model', str(checkpoint)], REPO)
    subprocess.run([sys.executable, 'export_onnx.py', '--saved_model', str(checkpoint), '--output',
                    str(work / 'demo_model.onnx')], check=True, cwd=REPO, capture_output=True)
    onnx_seconds = run_seconds(common + ['--onnx', str(work / 'demo_model.onnx')], REPO)
    return count / torch_seconds, count / onnx_seconds


def accuracy_after(iterations, train, valid, work, amp):
    """Validation accuracy of the shipped configuration after a fixed number of iterations (Adam, lr 1e-3)."""
    name = 'accuracy_amp' if amp else 'accuracy_fp32'
    command = kocrnn_command(CONFIGS['shipped'][0], iterations, train, valid, work, name)
    command[command.index('--valInterval') + 1] = str(iterations)
    subprocess.run(command + ['--adam', '--lr', '0.001', '--amp', 'on' if amp else 'off'], check=True,
                   cwd=REPO, capture_output=True)
    best = torch.load(work / 'kocrnn_runs' / name / 'best_accuracy.pth', weights_only=True)
    return best['best_accuracy']


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--configs', nargs='+', choices=list(CONFIGS), default=['shipped', 'TPS-ResNet-BiLSTM-CTC'])
    parser.add_argument('--dtrb', type=Path, help='a checkout of deep-text-recognition-benchmark, to run beside')
    parser.add_argument('--repeats', type=int, default=3, help='whole-process runs per program and length (median)')
    parser.add_argument('--iterations', type=int, help="the whole-process run's iterations (default: per configuration)")
    parser.add_argument('--profile', action='store_true', help='the share of each part of a training iteration')
    parser.add_argument('--demo_images', type=int, default=300)
    parser.add_argument('--accuracy_iterations', type=int, default=0)
    opt = parser.parse_args()
    if opt.dtrb and not (opt.dtrb / 'train.py').is_file():
        raise SystemExit(f'error: {opt.dtrb} holds no train.py: give a deep-text-recognition-benchmark checkout')

    characters = load_charset()
    ceilings = {'fp32': matmul_gflops(torch.float32)}
    if cpu_has_bf16():
        ceilings['bf16'] = matmul_gflops(torch.bfloat16)
    precision = 'bf16' if cpu_has_bf16() else 'fp32'  # what train.py's --amp auto runs here
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, {len(characters)} characters, '
          f'train.py --workers {default_workers()}; CPU: {cpu_flags()}')
    print('matrix-product ceiling (2048 x 2048): '
          + ', '.join(f'{name} {gflops:.0f} GFLOP/s' for name, gflops in ceilings.items()))
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        train, valid = make_lmdb(work, characters)
        env = None
        if opt.dtrb:
            write_stand_ins(work / 'dtrb_stand_ins')
            env = {**os.environ, 'PYTHONPATH': str(work / 'dtrb_stand_ins')}
            (work / 'dtrb_cwd').mkdir()
        print(f'\n{"configuration":22s} {"program":7s} {"it":>4s} {"whole s":>8s} {"steady img/s":>12s} '
              f'{"GFLOP/img":>9s} {"GFLOP/s":>7s} {"of its ceiling":>14s}')
        for name in opt.configs:
            flags, iterations = CONFIGS[name]
            iterations = opt.iterations or iterations
            config = model_config(flags, characters)
            train_gflop, _ = gflop_per_image(config, characters)
            programs = {'kocrnn': (lambda n, run, flags=flags: kocrnn_command(flags, n, train, valid, work, run),
                                   REPO, None)}
            if opt.dtrb:
                programs['dtrb'] = (lambda n, run, flags=flags: dtrb_command(opt.dtrb.resolve(), flags, n, train, valid,
                                                                             characters, run), work / 'dtrb_cwd', env)
            figures = whole_processes(programs, iterations, opt.repeats)
            for program, (seconds, steady) in figures.items():
                used = precision if program == 'kocrnn' else 'fp32'  # dtrb trains in fp32
                print(f'{name:22s} {program:7s} {iterations:4d} {seconds:8.1f} {steady:12.1f} {train_gflop:9.2f} '
                      f'{steady * train_gflop:7.0f} {steady * train_gflop / ceilings[used]:8.0%} {used}', flush=True)
            if 'dtrb' in figures:
                (k_seconds, k_steady), (d_seconds, d_steady) = figures['kocrnn'], figures['dtrb']
                print(f'{name:22s} kocrnn / dtrb: {d_seconds / k_seconds:.2f}x as a whole process, '
                      f'{k_steady / d_steady:.2f}x in steady state', flush=True)
        if opt.profile:
            for name in opt.configs:
                chosen = channels_last_pays(torch.device('cpu'), model_config(CONFIGS[name][0], characters).FeatureExtraction)
                layouts = [chosen] if not chosen else [False, True]  # where train.py changes the layout: both
                for channels_last in layouts:
                    rate, used, shares = profile_iteration(CONFIGS[name][0], train, characters, channels_last)
                    print(f'\nwhere a training iteration of {name} goes ({used}, '
                          f'{"channels-last" if channels_last else "contiguous"} feature extractor'
                          f'{" (train.py)" if channels_last == chosen else ""}, {rate:.1f} images/s under the profiler):')
                    for part, share in sorted(shares.items(), key=lambda item: -item[1]):
                        print(f'  {part:28s} {share:6.1%}')
        if opt.demo_images:
            folder = work / 'demo_images'
            folder.mkdir()
            for index, (image, _) in enumerate(render_samples(characters, opt.demo_images, seed=3)):
                image.save(folder / f'{index:04d}.png')
            flags = CONFIGS[opt.configs[0]][0]
            _, infer_gflop = gflop_per_image(model_config(flags, characters), characters)
            torch_rate, onnx_rate = measure_demo(flags, characters, folder, work)
            print(f'\ndemo.py, {opt.configs[0]}, {opt.demo_images} crops, whole process: PyTorch {torch_rate:.1f} '
                  f'images/s, ONNX Runtime {onnx_rate:.1f} images/s ({infer_gflop:.2f} GFLOP per image)')
        if opt.accuracy_iterations:
            for amp in (False, True):
                start = time.perf_counter()
                accuracy = accuracy_after(opt.accuracy_iterations, train, valid, work, amp)
                print(f'shipped configuration, {"--amp (bf16)" if amp else "fp32":13s}: {accuracy:.2f} % word accuracy '
                      f'after {opt.accuracy_iterations} iterations ({time.perf_counter() - start:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
