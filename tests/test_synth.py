"""The synthetic data generator: what text it draws, which fonts, and photo-like crops that stay true to their label."""
import json
import random

import numpy as np
import pytest
from PIL import Image

import synth_aihub
from synth.fonts import latin_fonts
from synth.photo import Backgrounds, bitmap_glyphs, render_photo_word, text_mask
from synth.words import TextSampler
from metrics import TEXT_KINDS, text_kind


@pytest.fixture(scope='module')
def samples(charset):
    sampler = TextSampler(charset)
    rng = random.Random(0)
    return sampler, [sampler.sample(rng) for _ in range(20000)]


def test_texts_cover_english_numbers_mixes_and_every_mark(charset, samples):
    sampler, texts = samples
    kinds = {kind: sum(text_kind(t) == kind for t in texts) / len(texts) for kind in TEXT_KINDS}
    assert kinds['Latin/digits only'] > 0.25 and kinds['mixed'] > 0.08 and kinds['Hangul only'] > 0.4
    assert any(t.isupper() for t in texts) and any(t.istitle() for t in texts) and any(t.islower() for t in texts)
    for example in ('Km', '₩', '원', 'Tel', ':'):
        assert any(example in t for t in texts), example
    drawn = {c for t in texts for c in t}
    marks = {c for c in charset if not c.isalnum() and c != ' '}
    assert marks <= drawn, f'marks never drawn: {sorted(marks - drawn)}'
    assert all(set(t) <= set(charset) and 0 < len(t) <= 25 and t == t.strip() for t in texts)


def test_the_words_mix_is_mostly_korean_and_unpunctuated(charset):
    sampler, rng = TextSampler(charset, mix='words'), random.Random(1)
    texts = [sampler.sample(rng) for _ in range(3000)]
    kinds = {kind: sum(text_kind(t) == kind for t in texts) / len(texts) for kind in TEXT_KINDS}
    assert kinds['Hangul only'] > 0.7 and kinds['Latin/digits only'] < 0.15
    assert not any(t[0] in '([<{*#' for t in texts)  # no bracket or leading mark added
    again = random.Random(1)
    assert texts == [sampler.sample(again) for _ in range(3000)]  # the same texts from the same seed
    with pytest.raises(ValueError, match='mix must be one of'):
        TextSampler(charset, mix='menus')


def test_text_kind_hand_checked():
    assert text_kind('[영수증]') == 'Hangul only'
    assert text_kind('₩35,000') == text_kind('STRIPLOIN STEAK') == text_kind('.') == 'Latin/digits only'
    assert text_kind('19오 7777') == text_kind('Tel 전화') == 'mixed'


def test_latin_fonts_draw_every_letter_and_no_hangul(charset):
    fonts = latin_fonts(charset)
    assert len({f.family for f in fonts}) >= 5, 'Latin fonts are needed: see README (fonts-dejavu-core, ...)'
    alnum = {c for c in charset if c.isascii() and c.isalnum()}
    for font in fonts:
        assert alnum <= font.drawable and not any('\uac00' <= c <= '\ud7a3' for c in font.drawable)
        assert not any(word in font.family.lower() for word in ('symbol', 'dingbat', 'math'))
    assert not latin_fonts(charset, names=['NanumGothic'])  # a Korean font is never taken as a Latin one


def test_letter_spacing_widens_the_ink_not_the_label(fonts):
    font = fonts[0].load(32)
    tight, spaced = text_mask('차림상', font, 0, 0), text_mask('차림상', font, 20, 0)
    assert spaced.width >= tight.width + 35 and abs(spaced.height - tight.height) <= 2


def test_receipt_bitmap_font_has_hard_square_pixels(fonts):
    """A receipt printer's bitmap font: ink fully on or off, each printer dot a block of screen pixels."""
    for seed in range(5):
        mask = np.asarray(bitmap_glyphs('[영수증] 12,000', fonts[seed % len(fonts)], random.Random(seed), 0))
        assert set(np.unique(mask)) == {0, 255} and mask.shape[0] >= 24
        factor = next(f for f in (3, 2) if mask.shape[0] % f == 0 and mask.shape[1] % f == 0
                      and (mask[::f].repeat(f, 0) == mask).all())
        assert (mask[:, ::factor].repeat(factor, 1) == mask).all()


def test_photo_crops_show_ink_on_every_style(fonts, tmp_path):
    """Across 60 seeds (all styles: plates, textures, photographs, receipts, LED boards) every crop holds a
    visible text: its darkest and brightest tenths differ."""
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(tmp_path / 'bg.jpg')
    backgrounds = Backgrounds([tmp_path])
    assert len(backgrounds) == 1
    for seed in range(60):
        image = render_photo_word('서울 Seoul 56Km', fonts[seed % len(fonts)], random.Random(seed), backgrounds)
        gray = np.asarray(image.convert('L'), np.float32)
        assert image.mode == 'RGB' and image.height >= 8 and image.width > image.height
        assert np.percentile(gray, 95) - np.percentile(gray, 5) > 25, seed


def test_photo_set_is_deterministic_and_uses_latin_fonts(tmp_path):
    runs = []
    for name, workers in (('a', '1'), ('b', '2')):
        out = tmp_path / name
        synth_aihub.main(['--data_type', 'font', '--count', '48', '--seed', '5', '--output', str(out),
                          '--workers', workers, '--fonts', 'NanumGothic', 'UnDotum', 'DejaVu', 'Liberation',
                          '--latin_font_rate', '0.3', '--background_dir', str(tmp_path / 'none'), '--quiet'])
        document = json.loads((out / 'printed_data_info.json').read_text(encoding='utf-8'))
        images = [(out / 'images' / i['file_name']).read_bytes() for i in document['images']]
        runs.append((document['annotations'], images))
    assert runs[0] == runs[1]
    info = json.loads((tmp_path / 'a' / 'synth_info.json').read_text(encoding='utf-8'))
    used = {a['attributes']['font'] for a in runs[0][0]}
    assert info['style'] == 'photo' and used & set(info['latin_fonts'])
    for annotation in runs[0][0]:  # a Latin font never gets Hangul to draw
        if annotation['attributes']['font'] in info['latin_fonts']:
            assert text_kind(annotation['text']) == 'Latin/digits only'
