"""demo.py --html in a real browser (headless Chromium), and train.py's curves.png."""
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from PIL import Image

import curves
import demo
import train
from conftest import REPO, SMALL_MODEL, train_args
from report import diff_markup

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


class DomSummary(HTMLParser):
    """Rows, images and marks of the report's rendered DOM."""

    def __init__(self):
        super().__init__()
        self.rows, self.decoded_images, self.body = [], 0, {}
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'body':
            self.body = attrs
        if tag == 'tr' and 'sample' in attrs.get('class', ''):
            self.rows.append({'name': attrs['data-name'], 'class': attrs['class'], 'cer': '', 'marks': 0})
        if tag == 'img' and attrs.get('data-decoded') == '1':
            self.decoded_images += 1
        if tag == 'td' and self.rows:
            self._cell = attrs.get('class')
        if tag in ('del', 'ins') and self.rows:
            self.rows[-1]['marks'] += 1

    def handle_data(self, data):
        if self._cell == 'cer' and self.rows:
            self.rows[-1]['cer'] += data.strip()

    def handle_endtag(self, tag):
        if tag == 'td':
            self._cell = None


def test_diff_marks_only_the_differing_characters():
    real, pred = diff_markup('복직될 자축하여', '복직될 축하여')
    assert real == '복직될 <del>자</del>축하여' and pred == '복직될 축하여'
    real, pred = diff_markup('봄<노래>', '붐<노래>')
    assert real == '<del>봄</del>&lt;노래&gt;' and pred == '<ins>붐</ins>&lt;노래&gt;'


def test_html_report_renders_every_row_and_image_in_chromium(tmp_path):
    assert CHROMIUM, 'needs Debian chromium: apt-get install chromium (make test does, as root)'
    folder = tmp_path / 'images'
    shutil.copytree(REPO / 'demo_image', folder)
    (folder / 'labels.txt').unlink()
    Image.open(folder / '01.jpg').save(folder / 'extra.tif')  # unlabelled, and not a format browsers show
    report = tmp_path / 'report.html'
    demo.main(['--image_folder', str(folder), '--label_test', str(REPO / 'demo_image' / 'labels.txt'),
               '--log_filename', str(tmp_path / 'test_log.txt'), '--html', str(report), '--workers', '0', '--quiet'])

    dom = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', report.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    summary = DomSummary()
    summary.feed(dom)
    assert sorted(r['name'] for r in summary.rows) == sorted(p.name for p in folder.iterdir())
    assert summary.body.get('data-images') == summary.body.get('data-decoded') == '13'
    assert summary.decoded_images == 13
    labelled = [r for r in summary.rows if 'unlabelled' not in r['class']]
    cers = [float(r['cer']) for r in labelled]
    assert cers == sorted(cers, reverse=True) and summary.rows[-1]['name'] == 'extra.tif'  # worst first
    assert all(r['marks'] > 0 for r in labelled if 'wrong' in r['class'])
    assert not any(r['marks'] for r in labelled if 'right' in r['class'])
    text_log = (tmp_path / 'test_log.txt').read_text(encoding='utf-8')
    assert f'accuracy {100 * sum("right" in r["class"] for r in labelled) / 12:.2f}%' in text_log


def test_curves_png_after_a_short_run(word_lmdb, word_charset_file, tmp_path):
    run = train.main(train_args(word_lmdb, tmp_path, *SMALL_MODEL, '--character_file', str(word_charset_file),
                                '--num_iter', '6', '--valInterval', '3'))
    with Image.open(run / 'curves.png') as image:
        image.verify()
    with Image.open(run / 'curves.png') as image:
        assert image.format == 'PNG'
        assert image.size == (curves.FIGURE_SIZE[0] * curves.DPI, curves.FIGURE_SIZE[1] * curves.DPI)
    history = curves.parse_log((run / 'log_train.txt').read_text(encoding='utf-8'))
    assert history.iteration == [1, 3, 6] and len(history.cer) == 3


def test_curves_lay_resumed_runs_end_to_end():
    log = ('[1/10] Train loss: 5.0, Valid loss: 4.0, Elapsed_time: 1.0\n'
           'Current_accuracy  : 0.000, Current_norm_ED  : 0.10, CER    : 0.9000\n'
           '[5/10] Train loss: 3.0, Valid loss: 2.5, Elapsed_time: 60.0\n'
           'Current_accuracy  : 10.000, Current_norm_ED  : 0.30\n'  # dtrb's line has no CER
           'resuming at iteration 5\n'
           '[10/10] Train loss: 1.0, Valid loss: 1.5, Elapsed_time: 30.0\n'
           'Current_accuracy  : 50.000, Current_norm_ED  : 0.80, CER    : 0.2000\n')
    history = curves.parse_log(log)
    assert history.iteration == [1, 5, 10] and history.accuracy == [0.0, 10.0, 50.0]
    assert history.minutes == pytest.approx([1 / 60, 1.0, 1.5])
    assert history.cer[1] != history.cer[1]  # NaN where the log has none
