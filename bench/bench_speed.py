"""Training and recognition images/s on this machine, dtrb's configuration (imgH 32, imgW 100, batch 32,
full Korean charset), printed as a table. Synthetic Korean word images rendered here; no timing is asserted.

    python3 bench/bench_speed.py [--configs TPS-ResNet-BiLSTM-CTC None-VGG-BiLSTM-CTC] [--steps 8]
"""
import argparse
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataset import AlignCollate  # noqa: E402
from model import Model, ModelConfig  # noqa: E402
from synth.fonts import korean_fonts  # noqa: E402
from synth.render import render_word  # noqa: E402
from synth.words import TextSampler  # noqa: E402
from train import build_optimizer, compute_loss, make_criterion  # noqa: E402
from utils import load_charset, make_converter, predict  # noqa: E402


def rendered_batch(characters, count, seed=0):
    rng = random.Random(seed)
    fonts = korean_fonts(characters, names=['NanumGothic', 'UnDotum', 'NanumMyeongjo'])
    sampler = TextSampler(characters, max_length=10)
    samples = []
    for _ in range(count):
        font = rng.choice(fonts)
        text = sampler.sample(rng, font.can_draw)
        samples.append((render_word(text, font, rng).convert('L'), text))
    return AlignCollate(32, 100)(samples)


def images_per_second(step, batch_size, steps, warmup=2):
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch_size * steps / (time.perf_counter() - start)


def bench(name, characters, images, labels, steps):
    transformation, feature, sequence, prediction = name.split('-')
    converter = make_converter(prediction, characters)
    config = ModelConfig(num_class=converter.num_class, Transformation=transformation, FeatureExtraction=feature,
                         SequenceModeling=sequence, Prediction=prediction)
    model = Model(config)
    criterion = make_criterion(prediction, torch.device('cpu'))
    optimizer = build_optimizer(model.parameters(), argparse.Namespace(adam=False, lr=1.0, rho=0.95, eps=1e-8,
                                                                       weight_decay=0.0))

    def train_step():
        loss = compute_loss(model, criterion, converter, images, labels, config)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        optimizer.step()

    model.train()
    train_rate = images_per_second(train_step, len(labels), steps)
    model.eval()

    def infer_step():
        with torch.inference_mode():
            predict(model, converter, images, prediction, config.batch_max_length)

    return train_rate, images_per_second(infer_step, len(labels), steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--configs', nargs='+', default=['TPS-ResNet-BiLSTM-CTC', 'None-VGG-BiLSTM-CTC'])
    parser.add_argument('--batch_size', type=int, default=32)
    parser.add_argument('--steps', type=int, default=8)
    opt = parser.parse_args()
    characters = load_charset()
    images, labels = rendered_batch(characters, opt.batch_size)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {opt.batch_size}, '
          f'{len(characters)} characters')
    print(f'{"configuration":28s} {"train img/s":>12s} {"infer img/s":>12s}')
    for name in opt.configs:
        train_rate, infer_rate = bench(name, characters, images, labels, opt.steps)
        print(f'{name:28s} {train_rate:12.1f} {infer_rate:12.1f}', flush=True)


if __name__ == '__main__':
    main()
