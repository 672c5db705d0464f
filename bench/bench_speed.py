"""Training and recognition speed against dtrb, on this machine, printed as a table (no timing is asserted).

    python3 bench/bench_speed.py [--configs ...] [--steps 6] [--demo_images 300] [--accuracy_iterations 0]

Per configuration (dtrb's setting: imgH 32, imgW 100, batch 32, the 2,459-character Korean charset):
- training images/s in steady state (warm-up steps excluded) and the peak memory of that process;
- for the first configuration, demo.py images/s as a user sees it: the whole process (start-up, model
  load, batched recognition of --demo_images rendered crops, test_log.txt), through PyTorch and through
  export_onnx.py + `demo.py --onnx` (ONNX Runtime);
- with --accuracy_iterations N, word accuracy after N training iterations of None-VGG-BiLSTM-CTC on a fixed
  rendered set, fp32 and --amp, so no speed-up may cost accuracy;
- the roofline: the GFLOP per image of each configuration (convolutions and matrix products, counted by
  torch's FlopCounterMode), the GFLOP/s that training reaches, and the fp32 (and, where the CPU runs it
  natively, bf16) matrix-product throughput of this machine, so the table says how far from its ceiling
  each figure is. Where the CPU has native bf16, training is measured with --amp as well.
dtrb's figures are the ones issue 5 measured (AVX-512 EPYC, torch 2.13, 2 threads); the ratio column is
kocrnn / dtrb, comparable only when this machine is that kind (the CPU flags are printed).
"""
import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checkpoint import atomic_save, make_checkpoint  # noqa: E402
from dataset import AlignCollate  # noqa: E402
from model import Model, ModelConfig  # noqa: E402
from precision import cpu_flags, cpu_has_bf16  # noqa: E402
from synth.fonts import korean_fonts  # noqa: E402
from synth.render import render_word  # noqa: E402
from synth.words import TextSampler  # noqa: E402
from charset import load_charset  # noqa: E402
from heads import HEADS, make_head  # noqa: E402
from optimization import OptimizerOptions  # noqa: E402

DTRB = {  # issue 5's table: training images/s, demo images/s (whole process, batch 192)
    'TPS-ResNet-BiLSTM-CTC': (6.1, 15.8),
    'TPS-ResNet-BiLSTM-Attn': (5.1, None),
    'None-VGG-BiLSTM-CTC': (41.2, None),
}


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


def config_for(name, characters):
    transformation, feature, sequence, prediction = name.split('-')
    return ModelConfig(num_class=HEADS[prediction].num_class(characters), Transformation=transformation,
                       FeatureExtraction=feature, SequenceModeling=sequence, Prediction=prediction)


def gflop_per_image(config, head, images, labels, train):
    """Convolution and matrix-product GFLOP of one image: a training step (forward + backward) or inference."""
    from torch.utils.flop_counter import FlopCounterMode
    model = Model(config).train(train)
    counter = FlopCounterMode(display=False)
    with counter:
        if train:
            head.loss(model, head.criterion(torch.device('cpu')), images, labels).backward()
        else:
            with torch.no_grad():
                head.scores(model, images)
    return counter.get_total_flops() / images.size(0) / 1e9


def matmul_gflops(dtype, size=2048, repeats=5):
    """This machine's matrix-product ceiling: GFLOP/s of a large square product on all torch threads."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def measure_training(name, batch_size, steps, amp, warmup=2):
    """In its own process (so peak memory is this configuration's): steady-state training images/s."""
    characters = load_charset()
    images, labels = AlignCollate(32, 100)(render_samples(characters, batch_size))
    config = config_for(name, characters)
    head = make_head(config.Prediction, characters, config.batch_max_length)
    model = Model(config).train()
    criterion = head.criterion(torch.device('cpu'))
    optimizer = OptimizerOptions().build(model.parameters())  # dtrb's Adadelta, lr 1.0
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
            loss = head.loss(model, criterion, images, labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        optimizer.step()
    rate = batch_size * steps / (time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    few_images, few_labels = images[:2], labels[:2]
    print(json.dumps({'train': rate, 'peak_mb': peak_mb,
                      'train_gflop': gflop_per_image(config, head, few_images, few_labels, train=True),
                      'infer_gflop': gflop_per_image(config, head, few_images, few_labels, train=False)}))


def run_timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, capture_output=True, text=True)
    return time.perf_counter() - start


def measure_demo(name, characters, folder, work):
    """demo.py images/s, whole process, for PyTorch and for ONNX Runtime (export not timed)."""
    config = config_for(name, characters)
    torch.manual_seed(0)
    checkpoint = work / f'{name}.pth'
    atomic_save(make_checkpoint(Model(config), config, characters), checkpoint)
    count = len(list(folder.glob('*.png')))
    common = [sys.executable, 'demo.py', '--image_folder', str(folder), '--batch_size', '192', '--quiet',
              '--log_filename', str(work / 'log.txt')]
    torch_seconds = run_timed(common + ['--saved_model', str(checkpoint)])
    subprocess.run([sys.executable, 'export_onnx.py', '--saved_model', str(checkpoint), '--output',
                    str(work / f'{name}.onnx')], check=True, cwd=REPO, capture_output=True)
    onnx_seconds = run_timed(common + ['--onnx', str(work / f'{name}.onnx')])
    return count / torch_seconds, count / onnx_seconds


def accuracy_after(iterations, work, characters, amp):
    """Validation accuracy of None-VGG-BiLSTM-CTC after a fixed number of iterations on a fixed set."""
    from create_lmdb_dataset import createDataset
    data = work / 'fixed_set'
    if not data.exists():
        for split, count, seed in (('train', 2000, 1), ('validation', 300, 2)):
            folder = data / 'images' / split
            folder.mkdir(parents=True)
            lines = []
            for index, (image, text) in enumerate(render_samples(characters, count, seed)):
                image.save(folder / f'{index}.png')
                lines.append(f'{index}.png\t{text}\n')
            (folder / 'gt.txt').write_text(''.join(lines), encoding='utf-8')
            createDataset(folder, folder / 'gt.txt', data / 'lmdb' / split)
    command = [sys.executable, 'train.py', '--train_data', str(data / 'lmdb' / 'train'), '--valid_data',
               str(data / 'lmdb' / 'validation'), '--Transformation', 'None', '--FeatureExtraction', 'VGG',
               '--SequenceModeling', 'BiLSTM', '--Prediction', 'CTC', '--batch_size', '32', '--adam', '--lr', '0.001',
               '--num_iter', str(iterations), '--valInterval', str(iterations), '--saved_folder', str(work / 'runs'),
               '--exp_name', 'amp' if amp else 'fp32', '--quiet', '--amp', 'on' if amp else 'off']
    subprocess.run(command, check=True, cwd=REPO, capture_output=True)
    best = torch.load(work / 'runs' / ('amp' if amp else 'fp32') / 'best_accuracy.pth', weights_only=True)
    return best['best_accuracy']


def ratio(ours, theirs):
    return f'{ours / theirs:6.2f}x' if ours and theirs else '      -'


def train_in_child(name, opt, amp):
    command = [sys.executable, __file__, '--measure_training', name, '--batch_size', str(opt.batch_size),
               '--steps', str(opt.steps)] + (['--amp'] if amp else [])
    child = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--configs', nargs='+', default=list(DTRB))
    parser.add_argument('--batch_size', type=int, default=32)
    parser.add_argument('--steps', type=int, default=6)
    parser.add_argument('--demo_images', type=int, default=300)
    parser.add_argument('--accuracy_iterations', type=int, default=0)
    parser.add_argument('--bf16', choices=('auto', 'on', 'off'), default='auto',
                        help='also measure training in bf16 autocast: auto = where the CPU runs bf16 natively')
    parser.add_argument('--measure_training', help=argparse.SUPPRESS)  # the per-configuration child process
    parser.add_argument('--amp', action='store_true', help=argparse.SUPPRESS)
    opt = parser.parse_args()
    if opt.measure_training:
        return measure_training(opt.measure_training, opt.batch_size, opt.steps, opt.amp)

    characters = load_charset()
    with_bf16 = opt.bf16 == 'on' or (opt.bf16 == 'auto' and cpu_has_bf16())
    ceilings = {'fp32': matmul_gflops(torch.float32)}
    if with_bf16:
        ceilings['bf16'] = matmul_gflops(torch.bfloat16)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {opt.batch_size}, imgH 32 imgW 100, '
          f'{len(characters)} characters; CPU: {cpu_flags()}')
    print('matrix-product ceiling of this machine (2048x2048): '
          + ', '.join(f'{precision} {gflops:.0f} GFLOP/s' for precision, gflops in ceilings.items()))
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        folder = work / 'demo_images'
        folder.mkdir()
        for index, (image, _) in enumerate(render_samples(characters, opt.demo_images, seed=3)):
            image.save(folder / f'{index:04d}.png')
        print(f'{"configuration":24s} {"prec":4s} {"train img/s":>11s} {"GFLOP/img":>9s} {"GFLOP/s":>7s} '
              f'{"of ceil":>7s} {"dtrb":>5s} {"ratio":>7s} {"peak MB":>7s} {"demo img/s":>10s} {"dtrb":>5s} '
              f'{"ratio":>7s} {"onnx img/s":>10s} {"ratio":>7s}')
        show = lambda value, width=10: f'{value:{width}.1f}' if value else ' ' * (width - 1) + '-'
        inference = {}
        for index, name in enumerate(opt.configs):
            for precision in ceilings:
                train = train_in_child(name, opt, amp=precision == 'bf16')
                inference[name] = train['infer_gflop']
                gflops = train['train'] * train['train_gflop']
                dtrb_train, dtrb_demo = DTRB.get(name, (None, None))
                demo_rate = onnx_rate = None
                if index == 0 and precision == 'fp32':
                    demo_rate, onnx_rate = measure_demo(name, characters, folder, work)
                print(f'{name:24s} {precision:4s} {train["train"]:11.1f} {train["train_gflop"]:9.2f} {gflops:7.0f} '
                      f'{gflops / ceilings[precision]:6.0%} {show(dtrb_train, 5)} {ratio(train["train"], dtrb_train)} '
                      f'{train["peak_mb"]:7.0f} {show(demo_rate)} {show(dtrb_demo, 5)} {ratio(demo_rate, dtrb_demo)} '
                      f'{show(onnx_rate)} {ratio(onnx_rate, dtrb_demo)}', flush=True)
        print('inference GFLOP per image, and the images/s the fp32 ceiling allows at most: ' + ', '.join(
            f'{name} {gflop:.2f} ({ceilings["fp32"] / gflop:.0f})' for name, gflop in inference.items()))
        if opt.accuracy_iterations:
            for amp in (False, True):
                start = time.perf_counter()
                accuracy = accuracy_after(opt.accuracy_iterations, work, characters, amp)
                print(f'None-VGG-BiLSTM-CTC {"--amp (bf16)" if amp else "fp32":13s}: {accuracy:.2f} % word accuracy '
                      f'after {opt.accuracy_iterations} iterations ({time.perf_counter() - start:.0f} s)', flush=True)


if __name__ == '__main__':
    main()
