"""The shipped Korean model recognises demo_image/ out of the box, and reads what photographed signs print."""
from pathlib import Path

import torch

import demo
from checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / 'pretrained_models' / 'kocrnn.pth'


def test_shipped_model_is_small_self_describing_and_weights_only(charset):
    assert SHIPPED.stat().st_size <= 25 * 2**20
    checkpoint = torch.load(SHIPPED, weights_only=True)
    assert checkpoint['character'] == ''.join(charset) and 'optimizer' not in checkpoint  # korean_charset.txt, in order
    assert checkpoint['config']['Prediction'] == 'CTC'
    # read as it was measured for the model card: beam search with the shipped word list
    assert checkpoint['decoding'] == {'beam_size': 8, 'lexicon': 'default', 'lexicon_weight': 2.0}


def test_demo_runs_out_of_the_box_and_reads_korean(tmp_path):
    """At least 11 of the 12 sample crops read exactly (12 when measured, on AVX2 and AVX512-BF16 CPUs), so a
    broken model, converter, resize or decoding (one character off here and there) cannot pass."""
    log = tmp_path / 'test_log.txt'
    demo.main(['--image_folder', str(REPO / 'demo_image'), '--label_test', str(REPO / 'demo_image' / 'labels.txt'),
               '--log_filename', str(log), '--workers', '0', '--quiet'])  # no --saved_model: the shipped one
    lines = log.read_text(encoding='utf-8').splitlines()
    rows = [[cell.strip() for cell in line.split('\t')] for line in lines[1:-1]]
    assert len(rows) == 12
    correct = sum(row[1] == row[2] for row in rows)
    mean_cer = float(lines[-1].split('mean CER ')[1].split(',')[0])
    assert correct >= 11 and mean_cer < 0.05, lines
    assert lines[-1].startswith('total: 12 images, 12 labelled')
    assert load_checkpoint(SHIPPED)['PAD'] is True


PRINT = REPO / 'pretrained_models' / 'kocrnn-print.pth'  # the default until the photo model took its place
SIGN_TEXTS = ['STRIPLOIN STEAK', 'Tel. 02-583-5544', '₩35,000', 'Seoul 56Km', '(1인분/180g)', 'WOODBOX',
              '18:14:59', 'LUNCH SALAD BAR', '[영수증]', 'Pyeongyang']


def read_all(model, folder, tmp_path):
    log = tmp_path / f'{model.stem}.txt'
    demo.main(['--image_folder', str(folder), '--label_test', str(folder / 'gt.txt'), '--saved_model', str(model),
               '--log_filename', str(log), '--workers', '0', '--amp', 'off', '--quiet'])
    rows = [[cell.strip() for cell in line.split('\t')] for line in log.read_text(encoding='utf-8').splitlines()[1:-1]]
    return sum(row[1] == row[2] for row in rows)


def test_shipped_model_reads_what_signs_print(tmp_path, charset):
    """Clean renders of sign, menu and receipt strings (English, prices, units, marks) in a Latin and a Korean
    font that the synthetic training data also has: the shipped model reads them, the print model before it
    mostly does not."""
    import random

    from synth.fonts import korean_fonts, latin_fonts
    from synth.render import render_word
    fonts = latin_fonts(charset, names=['LiberationSans-Bold']) + korean_fonts(charset, names=['NanumGothicBold'])
    folder = tmp_path / 'signs'
    folder.mkdir()
    lines = []
    for i, text in enumerate(SIGN_TEXTS):
        font = next(f for f in fonts if f.can_draw(text))
        render_word(text, font, random.Random(i), height=40, degrade_strength=0).save(folder / f'{i}.png')
        lines.append(f'{i}.png\t{text}\n')
    (folder / 'gt.txt').write_text(''.join(lines), encoding='utf-8')
    shipped, before = read_all(SHIPPED, folder, tmp_path), read_all(PRINT, folder, tmp_path)
    assert shipped >= 8 and shipped > before + 3, (shipped, before)
