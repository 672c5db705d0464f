"""demo.py --html: one self-contained page (images embedded) of every recognised image, worst first.

Each row shows the crop, the real text and the prediction with the differing characters marked
(missing in the prediction: red, struck through; extra or wrong in it: orange), the confidence and
the CER. Totals sit on top. Nothing is fetched: the page opens anywhere, offline.
"""
import base64
import difflib
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

from gtfile import resolves_inside
from images import open_image
from metrics import character_error_rate
from utils import atomic_write_bytes

BROWSER_FORMATS = {'.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
                   '.webp': 'image/webp', '.bmp': 'image/bmp'}
STYLE = '''
body { font-family: "Noto Sans KR", "NanumGothic", "Malgun Gothic", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
.totals { display: flex; gap: 2em; margin-bottom: 1em; }
.totals div { background: #f2f4f7; padding: .5em 1em; border-radius: 6px; }
.totals b { display: block; font-size: 1.3em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: .35em .7em; text-align: left; vertical-align: middle; }
th { background: #fafafa; position: sticky; top: 0; }
td.text { font-size: 1.15em; white-space: pre; }
img { max-height: 64px; max-width: 360px; image-rendering: auto; }
del { color: #c62828; background: #ffebee; }
ins { color: #e65100; background: #fff3e0; text-decoration: none; font-weight: bold; }
tr.wrong td.cer { color: #c62828; font-weight: bold; }
tr.right td.cer { color: #2e7d32; }
'''
# Marks each image as decoded once the browser has it, so a headless check can read the result from the DOM.
SCRIPT = '''
window.addEventListener('load', function () {
  var images = document.querySelectorAll('img.crop'), decoded = 0;
  images.forEach(function (img) { if (img.naturalWidth > 0) { img.dataset.decoded = '1'; decoded++; } });
  document.body.dataset.images = images.length;
  document.body.dataset.decoded = decoded;
});
'''


@dataclass
class ReportRow:
    """One recognised image, for test_log.txt and the HTML report."""
    name: str
    real: object  # str, or None when the image has no label
    pred: str
    confidence: float
    cer: object = field(init=False)  # None when unlabelled

    def __post_init__(self):
        self.cer = None if self.real is None else character_error_rate(self.pred, self.real)


def diff_markup(real, pred):
    """(real, prediction) as HTML, each with the characters the other lacks marked."""
    real_html, pred_html = [], []
    for op, r1, r2, p1, p2 in difflib.SequenceMatcher(None, real, pred, autojunk=False).get_opcodes():
        real_part, pred_part = html.escape(real[r1:r2]), html.escape(pred[p1:p2])
        if op == 'equal':
            real_html.append(real_part)
            pred_html.append(pred_part)
            continue
        if real_part:
            real_html.append(f'<del>{real_part}</del>')
        if pred_part:
            pred_html.append(f'<ins>{pred_part}</ins>')
    return ''.join(real_html), ''.join(pred_html)


def image_data_uri(path):
    """The file's own bytes when a browser can show them, else a PNG re-encoding; None if unreadable."""
    path = Path(path)
    mime = BROWSER_FORMATS.get(path.suffix.lower())
    try:
        if mime:
            data = path.read_bytes()
        else:
            image = open_image(path, rgb=True)
            if image is None:
                return None
            buffer = io.BytesIO()
            image.save(buffer, format='PNG')
            data, mime = buffer.getvalue(), 'image/png'
    except OSError:
        return None
    return f'data:{mime};base64,{base64.b64encode(data).decode("ascii")}'


def worst_first(rows):
    """Labelled rows by CER (highest first, then lowest confidence), unlabelled ones after by confidence."""
    labelled = sorted((r for r in rows if r.real is not None), key=lambda r: (-r.cer, r.confidence))
    unlabelled = sorted((r for r in rows if r.real is None), key=lambda r: r.confidence)
    return labelled + unlabelled


def render_row(row, image_root):
    path = resolves_inside(image_root, row.name)  # a name or link leading outside the folder is never read
    uri = image_data_uri(path) if path else None
    image = f'<img class="crop" alt="{html.escape(row.name)}" src="{uri}">' if uri else '(unreadable)'
    if row.real is None:
        real, pred, cer, verdict = '<i>no label</i>', html.escape(row.pred), '-', 'unlabelled'
    else:
        real, pred = diff_markup(row.real, row.pred)
        cer, verdict = f'{row.cer:.4f}', 'right' if row.real == row.pred else 'wrong'
    return (f'<tr class="sample {verdict}" data-name="{html.escape(row.name)}"><td>{image}</td>'
            f'<td class="name">{html.escape(row.name)}</td><td class="text real">{real}</td>'
            f'<td class="text pred">{pred}</td><td class="confidence">{row.confidence:.4f}</td>'
            f'<td class="cer">{cer}</td></tr>')


DEMO_REPORT_GENERATOR = 'kocrnn demo.py'


def is_demo_report(path):
    """True when `path` is a page demo.py wrote (so it may be replaced); older ones lack the generator
    line but open with the same head."""
    with open(path, encoding='utf-8', errors='replace') as handle:
        head = handle.read(8192)
    return f'content="{DEMO_REPORT_GENERATOR}"' in head or ('<html lang="ko">' in head and 'img.crop' in head)


def write_report(rows, image_root, output, title, totals):
    """rows: ReportRow list; totals: (label, value) pairs shown on top."""
    cards = ''.join(f'<div>{html.escape(label)}<b>{html.escape(str(value))}</b></div>' for label, value in totals)
    body = '\n'.join(render_row(row, image_root) for row in worst_first(rows))
    page = (f'<!DOCTYPE html>\n<html lang="ko"><head><meta charset="utf-8">'
            f'<meta name="generator" content="{DEMO_REPORT_GENERATOR}"><title>{html.escape(title)}</title>'
            f'<style>{STYLE}</style><script>{SCRIPT}</script></head><body>\n'
            f'<h1>{html.escape(title)}</h1><div class="totals">{cards}</div>\n'
            '<table id="results"><thead><tr><th>image</th><th>name</th><th>real text</th><th>prediction</th>'
            f'<th>confidence</th><th>CER</th></tr></thead><tbody>\n{body}\n</tbody></table></body></html>\n')
    output = Path(output)
    partial = output.with_name(output.name + '.partial')
    partial.write_text(page, encoding='utf-8')
    partial.replace(output)


# ---------------------------------------------------------------- read_photos.py's report

PHOTO_STYLE = '''
.photo { display: flex; gap: 1.5em; align-items: flex-start; margin: 1.5em 0; border-top: 1px solid #ddd; padding-top: 1em; }
.photo svg { max-width: 62vw; max-height: 80vh; border: 1px solid #ccc; }
.photo polygon { fill: rgba(255, 193, 7, .18); stroke: #e53935; stroke-width: 2; vector-effect: non-scaling-stroke; }
.photo text { fill: #e53935; font-weight: bold; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.photo td.text { font-size: 1.1em; }
'''
REPORT_GENERATOR = 'kocrnn read_photos.py'
SHOWN_SIDE = 1600  # photos are embedded scaled down to this longest side (the boxes keep photo pixels)


def photo_data_uri(picture):
    """An RGB PIL photo as a JPEG data URI, scaled down to SHOWN_SIDE."""
    shown = picture.copy()
    shown.thumbnail((SHOWN_SIDE, SHOWN_SIDE))
    buffer = io.BytesIO()
    shown.convert('RGB').save(buffer, format='JPEG', quality=85)
    return f'data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode("ascii")}'


def render_photo(name, picture, found):
    """One photo with its numbered boxes drawn over it, and the texts read beside it."""
    width, height = picture.size
    label_size = max(12, min(width, height) // 40)
    shapes = []
    for number, text in enumerate(found, 1):
        points = ' '.join(f'{x:.1f},{y:.1f}' for x, y in text.points)
        x, y = text.points[0]
        shapes.append(f'<polygon points="{points}"><title>{html.escape(text.text)}</title></polygon>'
                      f'<text x="{x:.1f}" y="{max(label_size, y - 3):.1f}" font-size="{label_size}">{number}</text>')
    rows = ''.join(f'<tr><td>{number}</td><td class="text">{html.escape(text.text)}</td>'
                   f'<td class="confidence">{text.confidence:.4f}</td></tr>' for number, text in enumerate(found, 1))
    return (f'<div class="photo" data-name="{html.escape(name)}" data-texts="{len(found)}">'
            f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f'<image class="crop" href="{photo_data_uri(picture)}" width="{width}" height="{height}"/>{"".join(shapes)}</svg>'
            f'<div><h2>{html.escape(name)}</h2><table><thead><tr><th>#</th><th>text</th><th>confidence</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div></div>')


def is_photo_report(path):
    """True when `path` is a page read_photos.py wrote (so it may be replaced)."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return f'<meta name="generator" content="{REPORT_GENERATOR}">' in handle.read(4096)
    except OSError:
        return False


def write_photo_report(sections, output, title, totals):
    """sections: render_photo()'s HTML of each photo, in order (made as each photo is read, so the photos
    themselves need not stay in memory); totals: (label, value) pairs shown on top."""
    cards = ''.join(f'<div>{html.escape(label)}<b>{html.escape(str(value))}</b></div>' for label, value in totals)
    body = '\n'.join(sections)
    page = (f'<!DOCTYPE html>\n<html lang="ko"><head><meta charset="utf-8">'
            f'<meta name="generator" content="{REPORT_GENERATOR}"><title>{html.escape(title)}</title>'
            f'<style>{STYLE}{PHOTO_STYLE}</style></head><body>\n'
            f'<h1>{html.escape(title)}</h1><div class="totals">{cards}</div>\n{body}\n</body></html>\n')
    atomic_write_bytes(page.encode('utf-8'), output)
