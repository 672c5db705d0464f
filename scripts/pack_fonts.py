"""Copy the installed Korean fonts and the Latin ones (English text), cut down to the charset's characters,
into one folder.

For generating data on a machine that has no Korean fonts and no package mirror (a rented GPU box):

    python3 scripts/pack_fonts.py fonts_packed --exclude Bangwool UnPilgia
    # there: python3 synth_aihub.py ... --font_dir fonts_packed

Each face keeps only the glyphs of korean_charset.txt, without hinting programs, which takes the Debian fonts
from about 220 MB to a small fraction. Needs fontTools (`pip install fonttools`), used by this script only.
"""
import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth.fonts import korean_fonts, latin_fonts  # noqa: E402
from charset import load_charset  # noqa: E402
from utils import UserError, run_main, setup_logging  # noqa: E402


def subset_font(path, index, characters, output):
    from fontTools import subset
    from fontTools.ttLib import TTFont
    options = subset.Options()
    options.layout_features = ['*']
    options.name_IDs = ['*']
    options.notdef_outline = True
    options.hinting = False  # hinting programs are half the size; FreeType's auto-hinter draws these sizes fine
    options.font_number = index
    font = subset.load_font(path, options, fontNumber=index) if path.lower().endswith(('.ttc', '.otc')) \
        else TTFont(path)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters])
    subsetter.subset(font)
    font.save(output)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('output', help='folder to write the cut-down fonts into')
    parser.add_argument('--exclude', nargs='*', default=[], help='leave out fonts whose name contains one of these')
    parser.add_argument('--character_file', default=None)
    opt = parser.parse_args(argv)
    log = setup_logging()
    logging.getLogger('fontTools').setLevel(logging.WARNING)
    try:
        import fontTools  # noqa: F401
    except ImportError:
        raise UserError('scripts/pack_fonts.py needs fontTools: pip install fonttools') from None
    characters = load_charset(character_file=opt.character_file)
    output = Path(opt.output)
    output.mkdir(parents=True, exist_ok=True)
    total = 0
    for font in korean_fonts(characters) + latin_fonts(characters):
        if any(x.lower() in font.name.lower() for x in opt.exclude):
            continue
        target = output / f'{font.name}-{font.index}.ttf'
        subset_font(font.path, font.index, sorted(font.drawable | {' '}), str(target))
        total += target.stat().st_size
        log.info('%s: %d characters, %.0f KB', target.name, len(font.drawable), target.stat().st_size / 1024)
    log.info('%.1f MB of fonts in %s', total / 2 ** 20, output)


if __name__ == '__main__':
    run_main(main)
