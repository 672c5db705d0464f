"""Step 0: synthetic data in AI Hub's own formats, for when the real download is not at hand.

    python3 synth_aihub.py --data_type signboard --count 200 --output kor_dataset/aihub_data/signboard
    python3 synth_aihub.py --data_type font --count 5000 --output kor_dataset/aihub_data/font

signboard: street photos with several text plates (horizontal and vertical), one label JSON per photo
under labels/ ({"images": [...], "annotations": [{"text", "bbox": [x, y, w, h]}], ...}).
font: one word crop per image and a single printed_data_info.json, as the Korean font-image set.
--style photo (the default) makes the crops look cut from photographs (display type, textures and
photographic backgrounds, uneven light, low resolution, blur, JPEG; receipts and LED boards);
--style print renders clean printed words as the set's own images are.
Deterministic for a given --seed, whatever --workers. Fonts are the installed Korean fonts, and for
English and numbers also the installed Latin ones, each render-checked so no image shows a character
its label does not name.
"""
import argparse
import hashlib
import json
import random
from functools import partial
import multiprocessing
from pathlib import Path

from tqdm import tqdm

from cli import ArgumentParser, non_negative_float, output_folder, positive_int, unit_interval
from synth.fonts import korean_fonts, latin_fonts
from synth.photo import DEFAULT_BACKGROUND_DIRS, Backgrounds, render_photo_word
from synth.render import render_signboard, render_word
from synth.words import TextSampler, default_words, english_words, read_word_list
from charset import load_charset
from utils import UserError, run_main, setup_logging

SIGN_PREFIXES = ['간판_가로형간판', '간판_세로형간판', '간판_돌출간판', '간판_실내간판']


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data_type', choices=('signboard', 'font'), required=True)
    parser.add_argument('--output', type=output_folder, required=True, help='folder to write images/ and the label JSON into')
    parser.add_argument('--count', type=positive_int, default=1000, help='number of images')
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--fonts', nargs='*', help='only fonts whose file or family name contains one of these')
    parser.add_argument('--exclude_fonts', nargs='*', default=[], help='leave out fonts matching these')
    parser.add_argument('--font_dir', nargs='*', help='use the fonts under these folders instead of the installed ones')
    parser.add_argument('--word_list', help='words to draw from, one per line (default: hunspell-ko + wordfreq; '
                                            '`python3 -m synth.words FILE` saves those)')
    parser.add_argument('--words', choices=('all', 'train', 'heldout'), default='all',
                        help='a fixed 90/10 split of the word list, to render held-out test sets')
    parser.add_argument('--character_file', default=None, help='charset the labels must stay within')
    parser.add_argument('--unreadable_rate', type=unit_interval, default=0.0,
                        help='signboard: share of boxes labelled with the placeholder xxx, as AI Hub does')
    parser.add_argument('--degrade', type=non_negative_float, default=1.0, help='print style: strength of blur/noise/JPEG damage')
    parser.add_argument('--style', choices=('photo', 'print'), default='photo',
                        help='font set: crops as cut from photographs (default) or clean printed words')
    parser.add_argument('--text', choices=TextSampler.MIXES, default='signs',
                        help='what the crops say: signs = what photographed signs, menus and receipts print '
                             '(Korean, English, mixed, prices, phones, units, marks); words = mostly Korean words and '
                             'phrases, as printed pages do; coverage = what word frequency under-draws: every '
                             'syllable about equally often, lone digits, letters and units, masked and long '
                             'numbers, label phrases with their commas, brackets and spaces')
    parser.add_argument('--latin_font_rate', type=unit_interval, default=0.2,
                        help='photo style: share of crops set in a Latin font (their text is then Latin, digits '
                             'and marks); 0 uses the Korean fonts alone')
    parser.add_argument('--background_dir', nargs='*', default=list(DEFAULT_BACKGROUND_DIRS),
                        help='photo style: folders of photographs to print text on (default: Debian\'s wallpapers '
                             'where installed; procedural textures otherwise)')
    parser.add_argument('--workers', type=positive_int, default=1)
    parser.add_argument('--quiet', action='store_true')
    return parser.parse_args(argv)


def word_in_split(word, split):
    if split == 'all':
        return True
    heldout = int(hashlib.md5(word.encode('utf-8')).hexdigest(), 16) % 10 == 0
    return heldout if split == 'heldout' else not heldout


class Generator:
    """Holds the fonts and text source; `make(index)` writes one image and returns its record."""

    def __init__(self, opt, characters):
        fonts = korean_fonts(characters, opt.fonts, font_dirs=opt.font_dir)
        self.fonts = [f for f in fonts if not any(x.lower() in f.name.lower() for x in opt.exclude_fonts)]
        if not self.fonts:
            raise UserError('--exclude_fonts leaves no font to render with')
        source = read_word_list(opt.word_list) if opt.word_list else default_words()
        words = [w for w in source if word_in_split(w, opt.words)]
        english = [w for w in english_words() if word_in_split(w, opt.words)]
        self.sampler = TextSampler(characters, max_length=25, words=words, english=english, mix=opt.text)
        latin = latin_fonts(characters, opt.fonts, font_dirs=opt.font_dir, exclude=opt.exclude_fonts)
        self.latin_families = sorted({f.family for f in latin})
        self.latin_fonts = {family: [f for f in latin if f.family == family] for family in self.latin_families}
        self.backgrounds = Backgrounds(opt.background_dir) if opt.style == 'photo' else None
        self.opt = opt
        self.image_dir = Path(opt.output) / 'images'

    def _rng(self, index):
        return random.Random(f'{self.opt.seed}:{index}')

    def pick_font(self, rng):
        """A Korean font, or (photo style, --latin_font_rate) a Latin family first, then one of its faces,
        so families with many weights do not crowd out the rest."""
        if self.opt.style == 'photo' and self.latin_families and rng.random() < self.opt.latin_font_rate:
            return rng.choice(self.latin_fonts[rng.choice(self.latin_families)])
        return rng.choice(self.fonts)

    def make_font_image(self, index):
        rng = self._rng(index)
        font = self.pick_font(rng)
        text = self.sampler.sample(rng, font.can_draw)
        if self.opt.style == 'photo':
            image = render_photo_word(text, font, rng, self.backgrounds)
        else:
            image = render_word(text, font, rng, degrade_strength=self.opt.degrade)
        file_name = f'{index + 1:08d}.png'
        image.save(self.image_dir / file_name, compress_level=1)
        return {'file_name': file_name, 'width': image.width, 'height': image.height, 'text': text,
                'font': font.name}

    def make_signboard(self, index):
        rng = self._rng(index)
        count = rng.randint(2, 6)
        fonts = [rng.choice(self.fonts) for _ in range(count)]
        texts = [self.sampler.sample(rng, font.can_draw) for font in fonts]
        photo, boxes = render_signboard(texts, fonts, rng)
        file_name = f'{SIGN_PREFIXES[index % len(SIGN_PREFIXES)]}_{index + 1:06d}.jpg'
        photo.save(self.image_dir / file_name, quality=92)
        annotations = []
        for text, bbox, vertical in boxes:
            label = 'xxx' if rng.random() < self.opt.unreadable_rate else text
            annotations.append({'text': label, 'bbox': bbox, 'vertical': vertical})
        return {'file_name': file_name, 'width': photo.width, 'height': photo.height, 'boxes': annotations}


def write_signboard_labels(records, output):
    """One AI Hub-style label JSON per photo, under labels/."""
    label_dir = Path(output) / 'labels'
    label_dir.mkdir(parents=True, exist_ok=True)
    annotation_id = 0
    for image_id, record in enumerate(records, 1):
        annotations = []
        for box in record['boxes']:
            annotation_id += 1
            annotations.append({'id': annotation_id, 'image_id': image_id, 'text': box['text'], 'bbox': box['bbox']})
        document = {
            'info': {'name': 'kocrnn synthetic signboard', 'description': '야외 실제 촬영 한글 이미지 (synthetic)'},
            'images': [{'id': image_id, 'width': record['width'], 'height': record['height'],
                        'file_name': record['file_name'], 'data_captured': '2026-01-01'}],
            'annotations': annotations, 'cropLabels': []}
        (label_dir / (Path(record['file_name']).stem + '.json')).write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding='utf-8')


def write_font_labels(records, output):
    """The font-image set's single JSON."""
    document = {
        'info': {'name': 'kocrnn synthetic printed words', 'description': '한국어 글자체 이미지 (synthetic)'},
        'images': [{'id': f'{i:08d}', 'width': r['width'], 'height': r['height'], 'file_name': r['file_name']}
                   for i, r in enumerate(records, 1)],
        'annotations': [{'id': f'{i:08d}', 'image_id': f'{i:08d}', 'text': r['text'],
                         'attributes': {'type': '단어(어절)', 'font': r['font']}} for i, r in enumerate(records, 1)],
        'licenses': []}
    (Path(output) / 'printed_data_info.json').write_text(json.dumps(document, ensure_ascii=False), encoding='utf-8')


_generator = None


def _init_worker(opt, characters):
    global _generator
    _generator = Generator(opt, characters)


def _make(kind, index):
    return _generator.make_font_image(index) if kind == 'font' else _generator.make_signboard(index)


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    characters = load_charset(character_file=opt.character_file)
    (Path(opt.output) / 'images').mkdir(parents=True, exist_ok=True)
    _init_worker(opt, characters)
    log.info('%d Korean fonts: %s', len(_generator.fonts), ', '.join(f.name for f in _generator.fonts))
    if opt.data_type == 'font' and opt.style == 'photo':
        log.info('%d Latin font families: %s; %d background photographs', len(_generator.latin_families),
                 ', '.join(_generator.latin_families), len(_generator.backgrounds))
    make = partial(_make, opt.data_type)
    indices = range(opt.count)
    if opt.workers > 1:
        # forkserver: forking a process that already runs torch/OpenMP threads can hang the children
        context = multiprocessing.get_context('forkserver')
        with context.Pool(opt.workers, initializer=_init_worker, initargs=(opt, characters)) as pool:
            records = list(tqdm(pool.imap(make, indices, chunksize=64), total=opt.count, desc=opt.data_type,
                                disable=True if opt.quiet else None))
    else:
        records = [make(i) for i in tqdm(indices, desc=opt.data_type, disable=True if opt.quiet else None)]
    if opt.data_type == 'font':
        write_font_labels(records, opt.output)
    else:
        write_signboard_labels(records, opt.output)
    info = {'data_type': opt.data_type, 'count': opt.count, 'seed': opt.seed, 'words': opt.words,
            'style': opt.style, 'fonts': [f.name for f in _generator.fonts],
            'latin_fonts': [f.name for faces in _generator.latin_fonts.values() for f in faces]}
    (Path(opt.output) / 'synth_info.json').write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding='utf-8')
    log.info('wrote %d images to %s', opt.count, opt.output)


if __name__ == '__main__':
    run_main(main)
