"""The fonts installed on this machine (Korean ones, and Latin ones for English text), each with the
characters it really draws.

A font's cmap is not the truth: some Debian fonts map syllables to blank glyphs or draw distinct
characters identically. Each font is render-checked once (ink present, bitmap distinct from the
.notdef box and from every other character) and the result is cached per font file.
"""
import hashlib
import json
import logging
import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from utils import UserError

log = logging.getLogger('kocrnn')
CHECK_SIZE = 32
CACHE_DIR = Path(os.environ.get('KOCRNN_CACHE', Path.home() / '.cache' / 'kocrnn')) / 'fontcheck'
CHECK_VERSION = 2


@dataclass(frozen=True)
class CheckedFont:
    path: str
    index: int
    family: str
    drawable: frozenset  # characters this font draws with ink, each distinguishable

    @property
    def name(self):
        return Path(self.path).stem

    def load(self, size):
        return ImageFont.truetype(self.path, size, index=self.index)

    def can_draw(self, text):
        return all(c == ' ' or c in self.drawable for c in text)


FONT_EXTENSIONS = {'.ttf', '.ttc', '.otf', '.otc'}


def folder_font_files(folders):
    """(path, index, family) of every face of the font files under `folders`, for machines without
    fontconfig or with fonts of one's own; the render check decides which draw Korean."""
    fonts = []
    for folder in folders:
        if not Path(folder).is_dir():
            raise UserError(f'font folder {folder} does not exist')
        for path in sorted(p for p in Path(folder).rglob('*') if p.suffix.lower() in FONT_EXTENSIONS):
            index = 0
            while True:
                try:
                    family = ImageFont.truetype(str(path), 12, index=index).getname()[0]
                except OSError:
                    break  # past the last face of a collection, or not a readable font
                fonts.append((str(path), index, family))
                index += 1
    return sorted(set(fonts))


# fontconfig's :lang=ko asks for the archaic jamo U+3165-U+318E too, which many modern Korean display faces
# lack: a Korean font is one that maps 가 (the render check then counts what it really draws).
FONTCONFIG_QUERIES = {'ko': ':charset=ac00'}


def installed_font_files(lang='ko'):
    """(path, index, family) of every installed font for `lang` via fontconfig: for Korean, every font
    mapping Hangul syllables; otherwise those declaring `lang`."""
    query = FONTCONFIG_QUERIES.get(lang, f':lang={lang}')
    try:
        output = subprocess.run(['fc-list', query, 'file', 'index', 'family'], capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    fonts = []
    for line in output.splitlines():
        path, _, rest = line.partition(': ')
        fields = dict(part.split('=', 1) for part in rest.split(':') if '=' in part)
        family = rest.split(':')[0].split(',')[0].strip()
        fonts.append((path.rstrip(':'), int(fields.get('index', 0)), family))
    return sorted(set(fonts))


def _glyph_bitmap(font, char):
    image = Image.new('L', (CHECK_SIZE * 2, CHECK_SIZE * 2), 0)
    ImageDraw.Draw(image).text((CHECK_SIZE // 2, CHECK_SIZE // 4), char, font=font, fill=255)
    return np.asarray(image) > 96


def render_check(path, index, characters):
    """The characters a font draws visibly and distinguishably."""
    font = ImageFont.truetype(path, CHECK_SIZE, index=index)
    notdef = _glyph_bitmap(font, '\U000f0000').tobytes()  # a private-use character: the .notdef box
    by_bitmap = defaultdict(list)
    for char in characters:
        if char == ' ':
            continue
        bitmap = _glyph_bitmap(font, char)
        if bitmap.sum() < 3:
            continue  # blank glyph
        by_bitmap[bitmap.tobytes()].append(char)
    return {chars[0] for key, chars in by_bitmap.items() if len(chars) == 1 and key != notdef}


def _cache_path(path, index, characters):
    stat = Path(path).stat()
    digest = hashlib.sha1(f'{CHECK_VERSION}|{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}|'
                          f'{"".join(characters)}'.encode()).hexdigest()[:16]
    return CACHE_DIR / f'{Path(path).stem}-{digest}.json'


def checked_drawable(path, index, characters):
    cache = _cache_path(path, index, characters)
    if cache.exists():
        return frozenset(json.loads(cache.read_text(encoding='utf-8')))
    drawable = render_check(path, index, characters)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(''.join(sorted(drawable)), ensure_ascii=False), encoding='utf-8')
    return frozenset(drawable)


def _matching(found, names):
    wanted = [n.lower() for n in names]
    return [f for f in found if any(w in Path(f[0]).stem.lower() or w in f[2].lower() for w in wanted)]


def korean_fonts(characters, names=None, min_hangul=2000, font_dirs=None):
    """Render-checked Korean fonts, the installed ones or those under `font_dirs`. `names` keeps only
    fonts whose file stem or family contains one of them; fonts drawing fewer than `min_hangul` Hangul
    syllables are left out (they'd bias the data)."""
    found = folder_font_files(font_dirs) if font_dirs else installed_font_files()
    if not found:
        raise UserError(f'no font file under {" ".join(map(str, font_dirs))}' if font_dirs else
                        'no Korean font installed: apt-get install fonts-nanum fonts-unfonts-core '
                        'fonts-baekmuk fonts-alee fonts-woowa-bm (see README)')
    if names:
        found = _matching(found, names)
        if not found:
            raise UserError(f'no Korean font matches --fonts {" ".join(names)}')
    fonts = []
    for path, index, family in found:
        drawable = checked_drawable(path, index, characters)
        hangul = sum(is_hangul(c) for c in drawable)
        if hangul < min_hangul:
            log.info('font %s left out: draws only %d Hangul syllables', Path(path).name, hangul)
            continue
        fonts.append(CheckedFont(path, index, family, drawable))
    if not fonts:
        raise UserError('none of the installed Korean fonts draws enough Hangul syllables')
    return fonts


HANGUL_PROBE = '가나다한글'
# fonts whose letters map to symbols or maths glyphs: they would teach the model wrong shapes
NOT_TEXT_FONTS = ('symbol', 'dingbat', 'd050000l', 'math')


def latin_fonts(characters, names=None, font_dirs=None, exclude=()):
    """Render-checked fonts without Hangul that draw every ASCII letter and digit of `characters`, for
    English words, numbers and signs: the installed fonts declaring English, or those under `font_dirs`.
    Symbol, icon and monospace-only oddities drop out by the check itself. May be empty."""
    found = folder_font_files(font_dirs) if font_dirs else installed_font_files('en')
    korean = {(path, index) for path, index, _ in ([] if font_dirs else installed_font_files())}
    exclude = tuple(x.lower() for x in exclude) + NOT_TEXT_FONTS
    found = [f for f in found if (f[0], f[1]) not in korean
             and not any(x in Path(f[0]).stem.lower() or x in f[2].lower() for x in exclude)]
    if names:
        found = _matching(found, names)
    non_hangul = [c for c in characters if not is_hangul(c)]
    alnum = {c for c in non_hangul if c.isascii() and c.isalnum()}
    fonts = []
    for path, index, family in found:
        if font_dirs and checked_drawable(path, index, list(HANGUL_PROBE)):
            continue  # a Korean font in the folder: korean_fonts() has it
        drawable = checked_drawable(path, index, non_hangul)
        if alnum <= drawable:
            fonts.append(CheckedFont(path, index, family, drawable))
    return fonts


def is_hangul(char):
    return '\uac00' <= char <= '\ud7a3'
