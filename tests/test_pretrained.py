"""The shipped Korean model recognises demo_image/ out of the box."""
from pathlib import Path

import torch

import demo
from checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / 'pretrained_models' / 'kocrnn.pth'


def test_shipped_model_is_small_self_describing_and_weights_only():
    assert SHIPPED.stat().st_size <= 25 * 2**20
    checkpoint = torch.load(SHIPPED, weights_only=True)
    assert len(checkpoint['character']) == 2459 and 'optimizer' not in checkpoint
    assert checkpoint['config']['Prediction'] == 'CTC'


def test_demo_reads_at_least_10_of_12(tmp_path):
    log = tmp_path / 'test_log.txt'
    demo.main(['--image_folder', str(REPO / 'demo_image'), '--label_test', str(REPO / 'demo_image' / 'labels.txt'),
               '--log_filename', str(log), '--workers', '0', '--quiet'])  # no --saved_model: the shipped one
    lines = log.read_text(encoding='utf-8').splitlines()
    rows = [[cell.strip() for cell in line.split('\t')] for line in lines[1:-1]]
    assert len(rows) == 12
    correct = sum(row[1] == row[2] for row in rows)
    assert correct >= 10, lines
    assert lines[-1].startswith('total: 12 images, 12 labelled')
    assert load_checkpoint(SHIPPED)['PAD'] is True
