"""Install Korean display and handwriting faces from npm's @fontsource packages as real fonts for the
synthetic-data generator (set-up step, run by `make setup` as root).

Debian ships few Korean display and handwriting faces; @fontsource packages more, but as web fonts: each
weight split into ~90 woff2 files by unicode-range. This script fetches each package of FACES with
`npm pack` into a temporary folder, merges the normal-style subsets of weight 400 (and 700 where there is
one) into one TrueType font with fontTools, checks it (fontconfig lists it as a Hangul font, it draws enough
Hangul syllables of the charset, its names stay clear of the held-out fonts), writes it into --output and
runs fc-cache there. A second run with the fonts present does nothing. Nothing is fetched at run time later.

    sudo .venv/bin/python scripts/install_npm_fonts.py      # /usr/local/share/fonts/kocrnn-npm
    .venv/bin/python scripts/install_npm_fonts.py           # as a user: ~/.local/share/fonts/kocrnn-npm
"""
import argparse
import inspect
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from fontTools.merge import Merger
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from charset import load_charset  # noqa: E402
from cli import output_folder  # noqa: E402
from npm_packages import NETWORK_ERROR, NpmError, npm_pack  # noqa: E402
from synth.fonts import _matching, installed_font_files, is_hangul, korean_fonts, render_check  # noqa: E402
from utils import UserError, atomic_write_bytes, run_main, setup_logging  # noqa: E402

log = logging.getLogger('kocrnn')


@dataclass(frozen=True)
class Face:
    package: str  # the name under @fontsource/
    version: str  # pinned, so every machine renders the same glyphs
    family: str


# Each installs as <package>-<weight>.ttf (e.g. gothic-a1-700.ttf), the stem that --fonts and
# --exclude_fonts match on.
FACES = (
    Face('poor-story', '5.3.0', 'Poor Story'),
    Face('gowun-dodum', '5.3.0', 'Gowun Dodum'),
    Face('ibm-plex-sans-kr', '5.3.0', 'IBM Plex Sans KR'),
    Face('gothic-a1', '5.3.0', 'Gothic A1'),
    Face('song-myung', '5.2.8', 'Song Myung'),
    Face('hi-melody', '5.3.0', 'Hi Melody'),
    Face('single-day', '5.3.1', 'Single Day'),
    Face('east-sea-dokdo', '5.3.0', 'East Sea Dokdo'),
    Face('stylish', '5.3.1', 'Stylish'),
    Face('gamja-flower', '5.3.0', 'Gamja Flower'),
    Face('dongle', '5.2.7', 'Dongle'),
    Face('hahmlet', '5.3.0', 'Hahmlet'),
    # modern faces without the archaic jamo, so not fontconfig's :lang=ko; synth/fonts.py finds them by 가
    Face('gaegu', '5.3.0', 'Gaegu'),
    Face('black-han-sans', '5.3.0', 'Black Han Sans'),
    Face('cute-font', '5.2.8', 'Cute Font'),
    Face('diphylleia', '5.2.7', 'Diphylleia'),
    Face('gugi', '5.3.0', 'Gugi'),
    Face('orbit', '5.3.0', 'Orbit'),
    Face('sunflower', '5.3.1', 'Sunflower'),
)

_DEBIAN_TWIN = 'the same design as Debian\'s {}, already installed: it would double that face\'s share of the data'
# Looked at and left out (measured with @fontsource versions of 2026-12).
LEFT_OUT = {
    'gowun-batang': 'family "Gowun Batang" contains the held-out name "batang": it would join the held-out set',
    'dokdo': 'not on npm (npm view @fontsource/dokdo: E404)',
    'noto-sans-kr': 'Noto fonts judge unseen fonts: never in training data',
    'noto-serif-kr': 'Noto fonts judge unseen fonts: never in training data',
    'nanum-pen-script': _DEBIAN_TWIN.format('NanumPen (fonts-nanum-extra)'),
    'nanum-brush-script': _DEBIAN_TWIN.format('NanumBrush (fonts-nanum-extra)'),
    'nanum-myeongjo': _DEBIAN_TWIN.format('NanumMyeongjo (fonts-nanum)'),
    'do-hyeon': _DEBIAN_TWIN.format('BM DoHyeon (fonts-woowa-bm)'),
    'jua': _DEBIAN_TWIN.format('BM JUA (fonts-woowa-bm)'),
    'kirang-haerang': _DEBIAN_TWIN.format('BM KIRANGHAERANG (fonts-woowa-bm)'),
    'yeon-sung': _DEBIAN_TWIN.format('BM YEONSUNG (fonts-woowa-bm)'),
}

# The fonts the held-out sets are rendered in (bench/make_heldout.sh --fonts, the training scripts'
# --exclude_fonts): a new font matching one of them would silently change those sets.
HELDOUT_FONTS = ('Bangwool', 'UnPilgia', 'NanumBarunpenR', 'UnDinaruLight', 'BMHANNAAir', 'NanumSquareRoundL',
                 'batang', 'NanumGothicEcoR')
# Fonts that judge generalisation to unseen faces: never installed for training.
NEVER_TRAIN_FONTS = ('noto', 'lexi', 'd2coding')
MIN_HANGUL = inspect.signature(korean_fonts).parameters['min_hangul'].default  # fewer: the generator drops it
WEIGHTS = (400, 700)
STYLE_NAMES = {100: 'Thin', 200: 'ExtraLight', 300: 'Light', 400: 'Regular', 500: 'Medium', 600: 'SemiBold',
               700: 'Bold', 800: 'ExtraBold', 900: 'Black'}


class Skip(Exception):
    """A face or weight that is not installed; the message is the reason, one line."""


def default_output():
    if os.geteuid() == 0:
        return Path('/usr/local/share/fonts/kocrnn-npm')
    return Path.home() / '.local' / 'share' / 'fonts' / 'kocrnn-npm'


def font_stem(face, weight):
    return f'{face.package}-{weight}'


def installed_files(face, output):
    pattern = re.compile(rf'{re.escape(face.package)}-\d+\.(ttf|otf)')
    return sorted(p for p in output.iterdir() if pattern.fullmatch(p.name))


def name_clash(stem, families):
    """The held-out or never-train name that a font of this file stem and these families would match, or
    None; matched the way synth/fonts.py matches --fonts."""
    for name in HELDOUT_FONTS + NEVER_TRAIN_FONTS:
        if _matching([(f'{stem}.ttf', 0, family) for family in families or ['']], [name]):
            return name
    return None


# --- fetching -------------------------------------------------------------------------------------------

def fetch_face(face, work_dir, npm='npm'):
    """The face's pinned package tarball, fetched into work_dir."""
    try:
        return npm_pack(f'@fontsource/{face.package}@{face.version}', work_dir, npm)
    except NpmError as error:
        raise Skip(str(error)) from None


def unpack(tarball, work_dir):
    """The package folder: its woff2 files, unicode.json, metadata.json and LICENSE."""
    wanted = re.compile(r'package/(files/[^/]+\.woff2|unicode\.json|metadata\.json|LICENSE)')
    try:
        with tarfile.open(tarball) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and wanted.fullmatch(m.name)]
            tar.extractall(work_dir, members=members, filter='data')
    except (tarfile.TarError, OSError) as error:
        raise Skip(f'unreadable package tarball ({error})') from None
    return work_dir / 'package'


# --- choosing and merging subsets -----------------------------------------------------------------------

def subset_files(package_dir, package):
    """{weight: [woff2 path of each unicode-range subset]} of the normal style. The subsets are those of
    unicode.json; fontsource's convenience files (e.g. `korean`, the same glyphs again) are not."""
    try:
        subsets = [key.strip('[]') for key in json.loads((package_dir / 'unicode.json').read_text(encoding='utf-8'))]
    except (OSError, ValueError, AttributeError):
        raise Skip('package has no readable unicode.json') from None
    by_weight = defaultdict(list)
    for subset in subsets:
        for path in (package_dir / 'files').glob(f'{package}-{subset}-*-normal.woff2'):
            weight = path.name[len(f'{package}-{subset}-'):-len('-normal.woff2')]
            if weight.isdigit():
                by_weight[int(weight)].append(path)
    if not by_weight:
        raise Skip('package has no normal-style woff2 subsets')
    return {weight: sorted(paths) for weight, paths in by_weight.items()}


def chosen_weights(available):
    """400 and 700 where they exist; without a 400, the weight nearest to it."""
    regular = 400 if 400 in available else min(available, key=lambda w: (abs(w - 400), -w))
    return sorted({regular} | ({700} & set(available)))


HINTING_TABLES = ('fpgm', 'prep', 'cvt ')


class HintKeepingMerger(Merger):
    """fontTools' Merger keeps the glyph programs of its first input only (the others might use other
    function and CVT tables), so most glyphs of a merged face would render unhinted beside hinted ones.
    This one notes every input glyph's program, under its merged name, before the Merger drops it."""

    def __init__(self):
        super().__init__()
        self.programs = {}
        self.hinting_tables = set()

    def _preMerge(self, font):  # called once per input, its glyphs already renamed to their merged names
        super()._preMerge(font)
        self.hinting_tables.add(tuple(font.getTableData(tag) if tag in font else b'' for tag in HINTING_TABLES))
        if 'glyf' in font:
            glyphs = font['glyf']
            for name in font.getGlyphOrder():
                program = getattr(glyphs[name], 'program', None)
                if program is not None and program.getBytecode():
                    self.programs[name] = program


def merge_subsets(paths):
    """One font (a fontTools TTFont, not yet saved) from woff2/TTF/OTF subsets of the same face, each glyph
    hinted as in its subset: subsets cut from one font share fpgm/prep/cvt, so their glyph programs hold
    in the merged font. Subsets that do not share them lose all hinting, so the face renders alike."""
    merger = HintKeepingMerger()
    font = merger.merge([str(p) for p in paths])
    font.flavor = None  # save as plain sfnt, not woff2
    if 'glyf' not in font:
        return font
    glyphs = font['glyf']
    if len(merger.hinting_tables) == 1:
        for name, program in merger.programs.items():
            glyphs[name].program = program
    else:
        for name in font.getGlyphOrder():
            glyphs[name].removeHinting()
        for tag in HINTING_TABLES:
            if tag in font:
                del font[tag]
    return font


def set_names(font, family, weight, license_text=None, license_url=None, source=None):
    """Family, style, full and PostScript names for `family` at `weight` (RIBBI: Regular/Bold under the
    family; other weights a family of their own, with typographic names); licence records kept, and
    added from the package where the subsets lack them."""
    style = STYLE_NAMES.get(weight, str(weight))
    ribbi = weight in (400, 700)
    names = {1: family if ribbi else f'{family} {style}', 2: style if ribbi else 'Regular',
             4: f'{family} {style}', 6: f'{family.replace(" ", "")}-{style}'}
    if not ribbi:
        names.update({16: family, 17: style})
    name_table = font['name']
    version = name_table.getDebugName(5) or 'Version 1.0'
    names[3] = f'{version.removeprefix("Version ")};{names[6]}'
    if source:
        names[10] = f'Merged from the woff2 subsets of {source}'
    if license_text and not name_table.getDebugName(13):
        names[13] = license_text
    if license_url and not name_table.getDebugName(14):
        names[14] = license_url
    for name_id, text in names.items():
        name_table.removeNames(nameID=name_id)
        name_table.setName(text, name_id, 3, 1, 0x409)


def package_license(package_dir):
    """(licence text, licence URL) of the package, either None when it has none."""
    license_file = package_dir / 'LICENSE'
    text = license_file.read_text(encoding='utf-8', errors='replace').strip() if license_file.exists() else None
    try:
        meta = json.loads((package_dir / 'metadata.json').read_text(encoding='utf-8'))
    except (OSError, ValueError):
        meta = {}
    license_info = meta.get('license')
    url = license_info.get('url') if isinstance(license_info, dict) else license_info
    return text, url if isinstance(url, str) else None


# --- checking -------------------------------------------------------------------------------------------

def fontconfig_view(path):
    """(families, langs) fontconfig reads from a font file."""
    try:
        output = subprocess.run(['fc-query', '-f', '%{family}\n%{lang}\n', str(path)], capture_output=True,
                                text=True, check=True).stdout.split('\n')
    except (OSError, subprocess.CalledProcessError):
        raise Skip('fc-query cannot read the merged font') from None
    families = [f for f in output[0].split(',') if f] if output else []
    langs = output[1].split('|') if len(output) > 1 else []
    return families, langs


def check_font(path, stem, characters):
    """The Hangul syllables of the charset a merged font draws; Skip when the generator would not use it
    or it would change the held-out set."""
    families, _ = fontconfig_view(path)
    clash = name_clash(stem, families)
    if clash:
        raise Skip(f'name matches the held-out or never-train font name {clash!r}')
    hangul = sum(is_hangul(c) for c in render_check(str(path), 0, characters))
    if hangul < MIN_HANGUL:
        raise Skip(f'draws only {hangul} Hangul syllables of the charset (the generator needs {MIN_HANGUL})')
    return hangul


# --- one face -------------------------------------------------------------------------------------------

def install_face(face, output, characters, npm='npm'):
    """Fetch, merge, check and write one face. Returns ([(file name, Hangul drawn, size)], [(weight, reason)])."""
    with tempfile.TemporaryDirectory(prefix='kocrnn-npm-') as temp:
        work_dir = Path(temp)
        package_dir = unpack(fetch_face(face, work_dir, npm), work_dir)
        license_text, license_url = package_license(package_dir)
        by_weight = subset_files(package_dir, face.package)
        ready, weights_skipped = [], []
        for weight in chosen_weights(by_weight):
            stem = font_stem(face, weight)
            try:
                merged = merge_subsets(by_weight[weight])
                set_names(merged, face.family, weight, license_text, license_url,
                          f'@fontsource/{face.package}@{face.version}')
                target = output / f'{stem}{".ttf" if "glyf" in merged else ".otf"}'
                temp_font = work_dir / target.name
                merged.save(str(temp_font))
            except Exception as error:  # fontTools raises many kinds on odd subsets
                weights_skipped.append((weight, f'merge failed ({type(error).__name__}: {error})'))
                continue
            try:
                hangul = check_font(temp_font, stem, characters)
            except Skip as skip:
                weights_skipped.append((weight, str(skip)))
                continue
            ready.append((temp_font, target, hangul))
        if not ready:
            raise Skip('; '.join(f'{w}: {reason}' for w, reason in weights_skipped) or 'no weight to install')
        written = []
        for temp_font, target, hangul in ready:
            atomic_write_bytes(temp_font.read_bytes(), target)
            written.append((target.name, hangul, target.stat().st_size))
        return written, weights_skipped


# --- the run --------------------------------------------------------------------------------------------

def heldout_selection():
    """What the held-out names select among the installed fonts: (Korean, Latin) (path, index, family) sets."""
    korean = installed_font_files()
    korean_paths = {(path, index) for path, index, _ in korean}
    latin = [f for f in installed_font_files('en') if (f[0], f[1]) not in korean_paths]
    return frozenset(_matching(korean, HELDOUT_FONTS)), frozenset(_matching(latin, HELDOUT_FONTS))


def refresh_fontconfig(output):
    try:
        subprocess.run(['fc-cache', '-f', str(output)], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise UserError(f'fc-cache {output} failed ({error}): the fonts are written but fontconfig does not '
                        f'list them yet') from None


def unlisted(paths):
    """The font files fontconfig does not list as Korean fonts."""
    listed = {path for path, _, _ in installed_font_files()}
    return [p for p in paths if str(p) not in listed]


def require_tools(npm):
    try:
        import brotli  # noqa: F401  (fontTools reads woff2 with it)
    except ImportError:
        raise UserError('brotli missing (fontTools needs it for woff2): pip install -r requirements-dev.txt') from None
    for tool, package in ((npm, 'npm'), ('fc-query', 'fontconfig'), ('fc-cache', 'fontconfig')):
        if not shutil.which(tool):
            raise UserError(f'{tool} not found: apt-get install {package}')


def report(installed, present, skipped, output):
    total = sum(size for _, _, size in installed)
    log.info('%d fonts installed (%.1f MB), %d faces already present, %d skipped, in %s', len(installed),
             total / 2 ** 20, len(present), len(skipped), output)
    for name, hangul, size in installed:
        log.info('  installed %s: draws %d Hangul syllables of the charset, %.1f MB', name, hangul, size / 2 ** 20)
    by_reason = defaultdict(list)
    for what, reason in skipped:
        by_reason[reason].append(what)
    for reason, names in sorted(by_reason.items()):
        log.info('  skipped %d (%s): %s', len(names), reason, ' '.join(names))


def install_faces(faces, output, characters, npm):
    """([(file name, Hangul drawn, size)] written, [(face or font, reason)] skipped)."""
    installed, skipped = [], []
    registry_down = False
    for face in tqdm(faces, desc='npm fonts', unit='face', disable=None):
        if registry_down:  # npm has retried already; each further try would take another minute
            skipped.append((face.package, 'not tried after a network error'))
            continue
        try:
            written, weights_skipped = install_face(face, output, characters, npm)
        except Skip as skip:
            skipped.append((face.package, str(skip)))
            log.warning('%s skipped: %s', face.package, skip)
            registry_down = str(skip).startswith(NETWORK_ERROR)
            continue
        installed += written
        skipped += [(font_stem(face, weight), reason) for weight, reason in weights_skipped]
    return installed, skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--output', type=output_folder, default=None,
                        help='font folder to write into (default /usr/local/share/fonts/kocrnn-npm as root, '
                             'else ~/.local/share/fonts/kocrnn-npm)')
    parser.add_argument('--faces', nargs='+', choices=[f.package for f in FACES], default=None,
                        help='only these faces of the list (default all)')
    parser.add_argument('--npm', default='npm', help='npm command (default npm)')
    parser.add_argument('--character_file', default=None, help='charset the render check counts (default korean_charset.txt)')
    opt = parser.parse_args(argv)
    setup_logging()
    logging.getLogger('fontTools').setLevel(logging.ERROR)  # the merger warns for every duplicate .notdef
    output = Path(opt.output) if opt.output else default_output()
    faces = [f for f in FACES if opt.faces is None or f.package in opt.faces]
    require_tools(opt.npm)
    characters = load_charset(character_file=opt.character_file)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f'cannot create {output}: {error.strerror}') from None

    present = [f for f in faces if installed_files(f, output)]
    todo = [f for f in faces if f not in present]
    if not todo:
        log.info('all %d faces present in %s: nothing to do', len(present), output)
        return
    heldout_before = heldout_selection()
    installed, skipped = install_faces(todo, output, characters, opt.npm)
    if installed:
        refresh_fontconfig(output)
        missing = unlisted(output / name for name, _, _ in installed)
        if missing:
            log.warning('fontconfig does not list %d of the new fonts as Korean (is %s in its font path? '
                        'see fc-list): %s', len(missing), output, ' '.join(p.name for p in missing))
    report(installed, [f.package for f in present], skipped, output)
    if heldout_selection() != heldout_before:
        raise UserError('the held-out font names now select different fonts: remove the new ones from '
                        f'{output} and check FACES against HELDOUT_FONTS')
    log.info('held-out font selection unchanged (%d Korean, %d Latin fonts match %s)',
             len(heldout_before[0]), len(heldout_before[1]), ' '.join(HELDOUT_FONTS))


if __name__ == '__main__':
    run_main(main)
