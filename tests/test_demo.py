"""demo.py's test_log.txt: per-image CER, missing labels, unreadable images."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import demo
from conftest import render_words
from metrics import character_error_rate

REPO = Path(__file__).resolve().parents[1]


def read_log(path):
    """(header, rows with cells stripped, total line or None)."""
    lines = path.read_text(encoding='utf-8').splitlines()
    total = lines.pop() if lines[-1].startswith('total:') else None
    rows = [[cell.strip() for cell in line.split('\t')] for line in lines]
    return rows[0], rows[1:], total


@pytest.fixture(scope='module')
def demo_folder(tmp_path_factory, fonts):
    folder = tmp_path_factory.mktemp('demo')
    render_words(folder, ['학교', '서울', '바다', '커피'], fonts, 4, seed=3)
    (folder / 'gt.txt').unlink()
    return folder


def predictions(run, folder, tmp_path):
    log = tmp_path / 'plain_log.txt'
    demo.main(['--image_folder', str(folder), '--saved_model', str(run / 'best_accuracy.pth'), '--log_filename',
               str(log), '--workers', '0', '--quiet'])
    header, rows, _ = read_log(log)
    assert header[0].strip() == 'image_name' and len(header) == 3
    return {row[0]: row[1] for row in rows}


def test_cer_per_line_is_hand_checkable(trained_run, demo_folder, tmp_path):
    """Labels built from the model's own predictions by one edit each give known CERs."""
    predicted = predictions(trained_run, demo_folder, tmp_path)
    names = sorted(predicted)
    pred = [predicted[n] for n in names]
    labels = {
        names[0]: pred[0],                                      # exact: CER 0
        names[1]: ('가' if pred[1][:1] != '가' else '나') + pred[1][1:] if pred[1] else '가',  # substitution
        names[2]: pred[2] + '국',                                # the prediction misses a character (deletion)
        names[3]: pred[3][1:] if len(pred[3]) > 1 else '',      # the prediction has one too many (insertion)
    }
    gt = tmp_path / 'labels.txt'
    # the seed's space-separated format, upper-case extensions
    gt.write_text(''.join(f'{Path(n).stem}.PNG {label}\n' for n, label in labels.items() if label), encoding='utf-8')
    log = tmp_path / 'test_log.txt'
    demo.main(['--image_folder', str(demo_folder), '--saved_model', str(trained_run / 'best_accuracy.pth'),
               '--label_test', str(gt), '--log_filename', str(log), '--workers', '0', '--quiet'])
    header, rows, total = read_log(log)
    assert [h.strip() for h in header] == ['image_name', 'real_text', 'predicted_text', 'confidence_score', 'CER']
    by_name = {row[0]: row for row in rows}
    for name, label in labels.items():
        row = by_name[name]
        if not label:
            assert row[1] == '-' and row[4] == '-'
            continue
        assert row[1] == label and row[2] == predicted[name]
        assert float(row[4]) == pytest.approx(character_error_rate(predicted[name], label), abs=1e-4)
    assert float(by_name[names[0]][4]) == 0.0
    assert total.startswith('total: 4 images')


def test_missing_label_is_reported_not_borrowed(trained_run, demo_folder, tmp_path):
    gt = tmp_path / 'labels.txt'
    gt.write_text('word_0000.png\t학교\n', encoding='utf-8')
    log = tmp_path / 'test_log.txt'
    result = subprocess.run([sys.executable, 'demo.py', '--image_folder', str(demo_folder), '--saved_model',
                             str(trained_run / 'best_accuracy.pth'), '--label_test', str(gt), '--log_filename',
                             str(log), '--workers', '0', '--quiet'], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count('no label in') == 3
    _, rows, total = read_log(log)
    assert [row[1] for row in rows] == ['학교', '-', '-', '-']
    assert '1 labelled' in total


def test_unreadable_image_is_counted(trained_run, demo_folder, tmp_path):
    folder = tmp_path / 'imgs'
    shutil.copytree(demo_folder, folder)
    (folder / 'broken.jpg').write_bytes(b'not a jpeg')
    result = subprocess.run([sys.executable, 'demo.py', '--image_folder', str(folder), '--saved_model',
                             str(trained_run / 'best_accuracy.pth'), '--log_filename', str(tmp_path / 'log.txt'),
                             '--workers', '0', '--quiet'], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0 and 'skipped 1 unreadable image' in result.stderr
    _, rows, total = read_log(tmp_path / 'log.txt')
    assert len(rows) == 4 and total is None  # the 4 good images; the broken one is absent
