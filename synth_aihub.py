"""Step 0: synthetic data in AI Hub's own formats, for when the real download is not at hand.

    python3 synth_aihub.py --data_type signboard --count 200 --output kor_dataset/aihub_data/signboard
    python3 synth_aihub.py --data_type font --count 5000 --output kor_dataset/aihub_data/font
    python3 synth_aihub.py --layout zip --count 40 --output kor_dataset/synthetic_release

signboard: street photos with several text plates (horizontal and vertical), one label JSON per photo
under labels/ ({"images": [...], "annotations": [{"text", "bbox": [x, y, w, h]}], ...}).
font: one word crop per image and a single printed_data_info.json, as the Korean font-image set.
--style photo (the default) makes the crops look cut from photographs (display type, textures and
photographic backgrounds, uneven light, low resolution, blur, JPEG; receipts and LED boards);
--style print renders clean printed words as the set's own images are.
--layout writes the data as AI Hub's releases come instead (flat: images/ and labels/, the default):
  release-old    signboards: Training/[라벨]Training/1.간판/1.가로형간판/가로형간판1/*.json and
                 Training/[원천]Training_간판_가로형간판_원천데이터1/*.jpg (some photos *.JPG on disk)
  release-new    signboards: 030.야외 실제 촬영 한글 이미지/01.데이터/1.Training/라벨링데이터_230216_add/TL1/...
                 and 원천데이터_230216_add/TS1/...
  zip            release-old as the downloads: one .zip per folder, names in cp949 without the UTF-8 flag
  printed        font set: printed_data_info.json (string ids) and images/syllable|word|sentence/
  textinthewild  04.Text in the wild/textinthewild_data_info.json and book|Goods|Singboard|Traffic_Sign/
                 photos: a word box per plate, character boxes per letter, one ignored box (text null)
  ocr-print      1.Training/Label/1.Printed/*.json (image object, text.word[] with wordbox corners,
                 text.letter[]) and 1.Training/Character/1.Printed/*.jpg
--output must be new, empty or an earlier synth_aihub.py output: a user's own files are never replaced.
Deterministic for a given --seed, whatever --workers. Fonts are the installed Korean fonts, and for
English and numbers also the installed Latin ones, each render-checked so no image shows a character
its label does not name.
"""
import argparse
import hashlib
import json
import random
import shutil
import zipfile
from functools import partial
import multiprocessing
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from cli import ArgumentParser, non_negative_float, output_folder, positive_int, unit_interval
from synth.fonts import korean_fonts, latin_fonts
from synth.photo import DEFAULT_BACKGROUND_DIRS, Backgrounds, render_photo_word
from synth.render import render_signboard, render_word
from synth.words import TextSampler, default_words, english_words, read_word_list
from aihub_release import PRINTED_LABEL_FILE, TEXT_IN_THE_WILD_LABEL_FILE
from charset import load_charset
from safe_files import claim_output_folder, regular_file
from utils import UserError, run_main, setup_logging

SIGN_KINDS = ['가로형간판', '세로형간판', '돌출간판', '실내간판']
SIGN_PREFIXES = [f'간판_{kind}' for kind in SIGN_KINDS]
MAX_COUNT = 10_000_000  # one run keeps a record per image in memory
# --layout: what each writes (the data type its photos or crops are)
LAYOUTS = {'flat': None, 'release-old': 'signboard', 'release-new': 'signboard', 'zip': 'signboard',
           'printed': 'font', 'textinthewild': 'textinthewild', 'ocr-print': 'ocr'}
OLD_ROOT = 'Training'
NEW_ROOT = '030.야외 실제 촬영 한글 이미지/01.데이터/1.Training'
TIW_ROOT = '04.Text in the wild'
TIW_FOLDERS = [('book', 'book'), ('Goods', 'product'), ('Singboard', 'sign'), ('Traffic_Sign', 'traffic sign')]
OCR_ROOT = '1.Training'
FONT_SUBFOLDERS = {'글자(음절)': 'syllable', '단어(어절)': 'word', '문장': 'sentence'}


def image_count(text):
    value = positive_int(text)
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f'{value} must be at most {MAX_COUNT:,} (make larger sets as several '
                                         'runs with other --seed values)')
    return value


def parse_args(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data_type', choices=('signboard', 'font'), default=None,
                        help='signboard photos or font-set word crops (the flat layout needs it; the others imply it)')
    parser.add_argument('--layout', choices=tuple(LAYOUTS), default='flat',
                        help='flat images/ + labels/ (default) or one of the releases\' own layouts (see above)')
    parser.add_argument('--output', type=output_folder, required=True,
                        help='new, empty or earlier synth_aihub.py folder to write the photos and label JSON into')
    parser.add_argument('--count', type=image_count, default=1000, help=f'number of images (at most {MAX_COUNT:,})')
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
    opt = parser.parse_args(argv)
    implied = LAYOUTS[opt.layout]
    if opt.layout == 'flat' and opt.data_type is None:
        parser.error('--data_type is needed for --layout flat')
    if opt.layout != 'flat' and opt.data_type not in (None, implied):
        parser.error(f'--layout {opt.layout} writes {implied} data; leave out --data_type {opt.data_type}')
    opt.kind = 'font' if (opt.data_type or implied) == 'font' else 'photo'  # word crops or photos with boxes
    return opt


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
        self.output = Path(opt.output)

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
        kind = '문장' if ' ' in text else '글자(음절)' if len(text) == 1 else '단어(어절)'
        folder = f'images/{FONT_SUBFOLDERS[kind]}' if self.opt.layout == 'printed' else 'images'
        path = self.output / folder / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, compress_level=1)
        return {'file_name': file_name, 'width': image.width, 'height': image.height, 'text': text,
                'font': font.name, 'type': kind if self.opt.layout == 'printed' else '단어(어절)'}

    def photo_place(self, index):
        """(file name the label gives, path under --output where the photo is saved) in the layout."""
        layout, kind = self.opt.layout, SIGN_KINDS[index % len(SIGN_KINDS)]
        if layout == 'textinthewild':
            name = hashlib.md5(f'{self.opt.seed}:{index}'.encode()).hexdigest().upper() + '.jpg'
            return name, f'{TIW_ROOT}/{TIW_FOLDERS[index % len(TIW_FOLDERS)][0]}/{name}'
        if layout == 'ocr-print':
            name = f'인쇄체_{index + 1:06d}.jpg'
            return name, f'{OCR_ROOT}/Character/1.Printed/{name}'
        name = f'{SIGN_PREFIXES[index % len(SIGN_PREFIXES)]}_{index + 1:06d}.jpg'
        on_disk = name[:-4] + '.JPG' if index % 7 == 3 else name  # as users find some photos of the release
        if layout in ('release-old', 'zip'):
            return name, f'{OLD_ROOT}/[원천]{OLD_ROOT}_간판_{kind}_원천데이터1/{on_disk}'
        if layout == 'release-new':
            return name, f'{NEW_ROOT}/원천데이터_230216_add/TS1/1.간판/{kind}/{on_disk}'
        return name, f'images/{name}'

    def make_signboard(self, index):
        rng = self._rng(index)
        count = rng.randint(2, 6)
        fonts = [rng.choice(self.fonts) for _ in range(count)]
        texts = [self.sampler.sample(rng, font.can_draw) for font in fonts]
        photo, boxes = render_signboard(texts, fonts, rng)
        file_name, place = self.photo_place(index)
        path = self.output / place
        path.parent.mkdir(parents=True, exist_ok=True)
        photo.save(path, format='JPEG', quality=92)
        annotations = []
        for text, bbox, vertical in boxes:
            label = 'xxx' if rng.random() < self.opt.unreadable_rate else text
            annotations.append({'text': label, 'bbox': bbox, 'vertical': vertical})
        ignored = [rng.randint(0, photo.width - 40), rng.randint(0, photo.height - 20), 30, 12]
        return {'file_name': file_name, 'width': photo.width, 'height': photo.height, 'boxes': annotations,
                'kind': SIGN_KINDS[index % len(SIGN_KINDS)], 'ignored_box': ignored}


def signboard_label_path(record, layout):
    """Where a signboard photo's label JSON goes in the layout."""
    stem, kind = PurePosixPath(record['file_name']).stem, record.get('kind', SIGN_KINDS[0])
    if layout in ('release-old', 'zip'):
        number = SIGN_KINDS.index(kind) + 1
        return f'{OLD_ROOT}/[라벨]{OLD_ROOT}/1.간판/{number}.{kind}/{kind}1/{stem}.json'
    if layout == 'release-new':
        return f'{NEW_ROOT}/라벨링데이터_230216_add/TL1/1.간판/{kind}/{stem}.json'
    return f'labels/{stem}.json'


def write_signboard_labels(records, output, layout='flat'):
    """One AI Hub-style label JSON per photo, under labels/ (or where the release layout keeps them)."""
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
        path = Path(output) / signboard_label_path(record, layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding='utf-8')


def write_font_labels(records, output):
    """The font-image set's single JSON."""
    document = {
        'info': {'name': 'kocrnn synthetic printed words', 'description': '한국어 글자체 이미지 (synthetic)'},
        'images': [{'id': f'{i:08d}', 'width': r['width'], 'height': r['height'], 'file_name': r['file_name']}
                   for i, r in enumerate(records, 1)],
        'annotations': [{'id': f'{i:08d}', 'image_id': f'{i:08d}', 'text': r['text'],
                         'attributes': {'type': r.get('type', '단어(어절)'), 'font': r['font']}}
                        for i, r in enumerate(records, 1)],
        'licenses': []}
    (Path(output) / PRINTED_LABEL_FILE).write_text(json.dumps(document, ensure_ascii=False), encoding='utf-8')


def letter_boxes(text, bbox, vertical):
    """One box per letter of a plate's text, the plate's box cut into equal parts along the text."""
    x, y, w, h = bbox
    count = len(text)
    if vertical:
        return [(c, [x, y + h * i // count, w, h // count]) for i, c in enumerate(text)]
    return [(c, [x + w * i // count, y, w // count, h]) for i, c in enumerate(text)]


def write_text_in_the_wild_labels(records, output):
    """Text in the wild's single JSON: per plate a 'word' box, per letter a 'character' box, and per photo
    one 'ignored' box whose text is null."""
    images, annotations = [], []

    def annotate(image_id, text, bbox, kind):
        annotations.append({'id': f'{len(annotations) + 1:08d}', 'image_id': image_id, 'text': text, 'bbox': bbox,
                            'attributes': {'class': kind}})

    for number, record in enumerate(records, 1):
        image_id = f'{number:08d}'
        folder_type = TIW_FOLDERS[(number - 1) % len(TIW_FOLDERS)][1]
        images.append({'id': image_id, 'width': record['width'], 'height': record['height'],
                       'file_name': record['file_name'], 'type': folder_type})
        for box in record['boxes']:
            annotate(image_id, box['text'], box['bbox'], 'word')
            if box['text'] != 'xxx' and ' ' not in box['text']:
                for letter, bbox in letter_boxes(box['text'], box['bbox'], box['vertical']):
                    annotate(image_id, letter, bbox, 'character')
        annotate(image_id, None, record['ignored_box'], 'ignored')
    document = {'info': {'name': 'Text in the wild Dataset', 'description': 'kocrnn synthetic'},
                'images': images, 'annotations': annotations, 'licenses': []}
    path = Path(output) / TIW_ROOT / TEXT_IN_THE_WILD_LABEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding='utf-8')


def write_ocr_page_labels(records, output):
    """The OCR set's JSON per page: `image` an object, text.word[] with wordbox corners [x1, y1, x2, y2],
    text.letter[] with a box per letter."""
    folder = Path(output) / OCR_ROOT / 'Label' / '1.Printed'
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        words, letters = [], []
        for box in record['boxes']:
            x, y, w, h = box['bbox']
            words.append({'id': len(words) + 1, 'value': box['text'], 'wordbox': [x, y, x + w, y + h]})
            for letter, (lx, ly, lw, lh) in letter_boxes(box['text'], box['bbox'], box['vertical']):
                letters.append({'value': letter, 'letterbox': [lx, ly, lx + lw, ly + lh]})
        document = {'info': {'name': 'kocrnn synthetic printed pages', 'description': '다양한 형태의 한글 문자 OCR'},
                    'image': {'file_name': record['file_name'], 'width': record['width'], 'height': record['height'],
                              'type': 'printed'},
                    'text': {'word': words, 'letter': letters}, 'license': {'font': 'synthetic'}}
        (folder / (PurePosixPath(record['file_name']).stem + '.json')).write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding='utf-8')


class Cp949Name(zipfile.ZipInfo):
    """A zip member whose name is stored in cp949 without the UTF-8 flag, as Korean Windows tools write
    them (zipfile itself always flags non-ASCII names as UTF-8)."""

    def _encodeFilenameFlags(self):
        return self.filename.encode('cp949'), self.flag_bits & ~0x800


def pack_release_zips(output):
    """Each folder of Training/ packed into Training/<folder>.zip (cp949 names) and then removed: the
    downloads as AI Hub serves them."""
    root = Path(output) / OLD_ROOT
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        with zipfile.ZipFile(folder.with_name(folder.name + '.zip'), 'w', zipfile.ZIP_STORED) as archive:
            for path in sorted(p for p in folder.rglob('*') if p.is_file()):
                info = Cp949Name(path.relative_to(folder).as_posix(), date_time=(2022, 1, 1, 0, 0, 0))
                archive.writestr(info, path.read_bytes())
        shutil.rmtree(folder)


def write_labels(records, opt):
    if opt.layout == 'textinthewild':
        write_text_in_the_wild_labels(records, opt.output)
    elif opt.layout == 'ocr-print':
        write_ocr_page_labels(records, opt.output)
    elif opt.kind == 'font':
        write_font_labels(records, opt.output)
    else:
        write_signboard_labels(records, opt.output, opt.layout)
        if opt.layout == 'zip':
            pack_release_zips(opt.output)


_generator = None


def _init_worker(opt, characters):
    global _generator
    _generator = Generator(opt, characters)


def _make(kind, index):
    return _generator.make_font_image(index) if kind == 'font' else _generator.make_signboard(index)


def main(argv=None):
    opt = parse_args(argv)
    log = setup_logging(quiet=opt.quiet)
    if opt.word_list:
        regular_file(opt.word_list, 'word list')
    claim_output_folder(opt.output, 'synth_aihub.py')
    characters = load_charset(character_file=opt.character_file)
    _init_worker(opt, characters)
    log.info('%d Korean fonts: %s', len(_generator.fonts), ', '.join(f.name for f in _generator.fonts))
    if opt.kind == 'font' and opt.style == 'photo':
        log.info('%d Latin font families: %s; %d background photographs', len(_generator.latin_families),
                 ', '.join(_generator.latin_families), len(_generator.backgrounds))
    make = partial(_make, opt.kind)
    indices = range(opt.count)
    progress = dict(total=opt.count, desc=opt.layout if opt.layout != 'flat' else opt.data_type,
                    disable=True if opt.quiet else None)
    if opt.workers > 1:
        # forkserver: forking a process that already runs torch/OpenMP threads can hang the children
        context = multiprocessing.get_context('forkserver')
        with context.Pool(opt.workers, initializer=_init_worker, initargs=(opt, characters)) as pool:
            records = list(tqdm(pool.imap(make, indices, chunksize=64), **progress))
    else:
        records = [make(i) for i in tqdm(indices, **progress)]
    write_labels(records, opt)
    info = {'data_type': opt.data_type or LAYOUTS[opt.layout], 'layout': opt.layout, 'count': opt.count,
            'seed': opt.seed, 'words': opt.words, 'style': opt.style, 'fonts': [f.name for f in _generator.fonts],
            'latin_fonts': [f.name for faces in _generator.latin_fonts.values() for f in faces]}
    (Path(opt.output) / 'synth_info.json').write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding='utf-8')
    log.info('wrote %d images to %s', opt.count, opt.output)


if __name__ == '__main__':
    run_main(main)
