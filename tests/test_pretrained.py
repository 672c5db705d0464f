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


def test_demo_runs_out_of_the_box_and_reads_korean(tmp_path):
    """Issue 4's bar: at least 10 of the 12 sample crops read exactly, so a broken model, converter or
    resize (a model that reads nothing, or one character off everywhere) cannot pass."""
    log = tmp_path / 'test_log.txt'
    demo.main(['--image_folder', str(REPO / 'demo_image'), '--label_test', str(REPO / 'demo_image' / 'labels.txt'),
               '--log_filename', str(log), '--workers', '0', '--quiet'])  # no --saved_model: the shipped one
    lines = log.read_text(encoding='utf-8').splitlines()
    rows = [[cell.strip() for cell in line.split('\t')] for line in lines[1:-1]]
    assert len(rows) == 12
    correct = sum(row[1] == row[2] for row in rows)
    mean_cer = float(lines[-1].split('mean CER ')[1].split(',')[0])
    assert correct >= 10 and mean_cer < 0.1, lines
    assert lines[-1].startswith('total: 12 images, 12 labelled')
    assert load_checkpoint(SHIPPED)['PAD'] is True
