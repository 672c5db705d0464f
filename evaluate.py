"""Validation: a model's loss, predictions and scores over a data loader, shared by train.py (each
--valInterval), test.py and the benches, so every figure they print is computed one way."""
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from decoding import GREEDY
from metrics import score_predictions
from precision import FP32
from utils import Averager, pad


@dataclass
class Validation:
    loss: float
    accuracy: float
    norm_ED: float
    cer: float
    jer: float
    preds: list
    labels: list
    confidences: list
    seconds: float


@torch.no_grad()
def validate(model, head, criterion, loader, device, precision=FP32, desc='valid', decoding=GREEDY):
    """Loss and scores of `model` (read by `head` with `decoding`) on every batch of `loader`; the model is
    left in training mode after."""
    model.eval()
    loss_avg = Averager()
    preds, labels, confidences = [], [], []
    start = time.perf_counter()
    for images, batch_labels in tqdm(loader, desc=desc, leave=False, disable=None):
        if images is None:
            continue
        images = images.to(device)
        with precision.autocast():
            loss_avg.add(head.loss(model, criterion, images, batch_labels))
            texts, scores = head.read(model, images, decoding)
        preds += texts
        labels += batch_labels
        confidences += scores
    model.train()
    scores = score_predictions(preds, labels)
    return Validation(loss_avg.val(), scores.accuracy, scores.norm_ED, scores.cer, scores.jer, preds, labels,
                      confidences, time.perf_counter() - start)


def format_predictions(result, count=5):
    """dtrb's table of a few validation predictions."""
    dashed = '-' * 84
    lines = [dashed, f'{"Ground Truth":25s} | {"Prediction":25s} | Confidence Score & T/F', dashed]
    for gt, pred, confidence in list(zip(result.labels, result.preds, result.confidences))[:count]:
        lines.append(f'{pad(gt, 25)} | {pad(pred, 25)} | {confidence:0.4f}\t{pred == gt}')
    lines.append(dashed)
    return '\n'.join(lines)
