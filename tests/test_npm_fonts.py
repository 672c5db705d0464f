"""scripts/install_npm_fonts.py without the network: woff2 subsets made here from an installed Debian font,
merged back into one font; the face list kept clear of held-out and never-train fonts."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from synth.fonts import is_hangul, render_check

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('install_npm_fonts', REPO / 'scripts' / 'install_npm_fonts.py')
npm_fonts = importlib.util.module_from_spec(spec)
spec.loader.exec_module(npm_fonts)

pytest.importorskip('brotli')  # fontTools writes and reads woff2 with it (requirements-dev.txt)


@pytest.fixture(scope='module')
def source_font(fonts):
    """A plain TrueType Korean font of the machine (a face of a .ttc cannot be saved as one font file)."""
    ttf = [f for f in fonts if f.path.lower().endswith('.ttf')]
    assert ttf, 'needs a Korean .ttf font (fonts-nanum)'
    return ttf[0]


def write_woff2_subset(source, characters, path, hinting=True):
    from fontTools import subset
    options = subset.Options()
    options.flavor = 'woff2'
    options.hinting = hinting
    options.layout_features = ['*']
    options.notdef_outline = True
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters])
    subsetter.subset(font)
    subset.save_font(font, str(path), options)
    return path


def bitmap(font_path, char, size=20):
    """A small size, where hinting moves pixels."""
    from PIL import Image, ImageDraw, ImageFont
    if str(font_path).endswith('.woff2'):
        from fontTools.ttLib import TTFont
        font = TTFont(str(font_path))
        font.flavor = None
        font_path = Path(font_path).with_suffix('.ttf')
        font.save(str(font_path))
    image = Image.new('L', (2 * size, 2 * size), 0)
    ImageDraw.Draw(image).text((4, 4), char, font=ImageFont.truetype(str(font_path), size), fill=255)
    return image.tobytes()


def split_into_woff2(source, groups, folder):
    return [write_woff2_subset(source, group, folder / f'face-{i}-400-normal.woff2') for i, group in enumerate(groups)]


def test_merged_subsets_draw_the_syllables_of_every_subset(tmp_path, source_font, charset):
    hangul = [c for c in charset if is_hangul(c) and c in source_font.drawable]
    groups = [hangul[:40], hangul[1000:1040], hangul[-40:] + list('AZaz09')]  # unicode ranges far apart
    subsets = split_into_woff2(source_font.path, groups, tmp_path)
    wanted = set(''.join(''.join(g) for g in groups))
    assert not wanted <= render_check(str(subsets[0]), 0, sorted(wanted))  # one subset alone lacks most

    merged = npm_fonts.merge_subsets(subsets)
    npm_fonts.set_names(merged, 'Test Face', 700, 'licence text', 'https://example.org/licence')
    path = tmp_path / 'merged.ttf'
    merged.save(str(path))

    assert render_check(str(path), 0, sorted(wanted)) == wanted
    for subset, group in zip(subsets, groups):  # hinted as in its subset (fontTools' Merger drops hints)
        assert [bitmap(path, c) for c in group] == [bitmap(subset, c) for c in group]
    names = merged['name']
    assert (names.getDebugName(1), names.getDebugName(2), names.getDebugName(6)) == ('Test Face', 'Bold', 'TestFace-Bold')
    assert names.getDebugName(13) or names.getDebugName(0)  # licence or copyright kept


def test_subsets_hinted_differently_merge_unhinted(tmp_path, source_font, charset):
    hangul = [c for c in charset if is_hangul(c)]
    subsets = [write_woff2_subset(source_font.path, hangul[:20], tmp_path / 'a.woff2'),
               write_woff2_subset(source_font.path, hangul[20:40], tmp_path / 'b.woff2', hinting=False)]
    merged = npm_fonts.merge_subsets(subsets)
    assert not any(tag in merged for tag in npm_fonts.HINTING_TABLES)
    glyphs = merged['glyf']
    assert not any(getattr(glyphs[name], 'program', None) and glyphs[name].program.getBytecode()
                   for name in merged.getGlyphOrder())


def test_merged_charset_font_passes_the_install_check(tmp_path, source_font, charset):
    """Subsets covering the charset's syllables and the compatibility jamo merge into a font fontconfig
    declares Korean and the generator would use."""
    hangul = [c for c in charset if is_hangul(c)]
    jamo = [chr(c) for c in range(0x3131, 0x318f)]
    third = len(hangul) // 3
    groups = [hangul[:third] + jamo, hangul[third:2 * third], hangul[2 * third:] + list('ABCabc123')]
    merged = npm_fonts.merge_subsets(split_into_woff2(source_font.path, groups, tmp_path))
    path = tmp_path / 'merged.ttf'
    merged.save(str(path))
    drawn = npm_fonts.check_font(path, 'test-face-400', charset)
    assert drawn == sum(is_hangul(c) for c in source_font.drawable) >= npm_fonts.MIN_HANGUL


def test_face_list_leaves_out_heldout_and_never_train_fonts():
    packages = [face.package for face in npm_fonts.FACES]
    assert len(set(packages)) == len(packages)
    assert not set(packages) & set(npm_fonts.LEFT_OUT)
    for face in npm_fonts.FACES:
        for weight in npm_fonts.WEIGHTS:
            assert npm_fonts.name_clash(npm_fonts.font_stem(face, weight), [face.family]) is None, face
    assert npm_fonts.name_clash('gowun-batang-400', ['Gowun Batang']) == 'batang'
    assert npm_fonts.name_clash('x-400', ['Noto Sans KR']) == 'noto'
    assert npm_fonts.name_clash('x-400', ['D2Coding']) == 'd2coding'
    assert npm_fonts.name_clash('lexi-gulim-400', ['']) == 'lexi'


@pytest.mark.parametrize('script', ['bench/make_heldout.sh', 'scripts/train_pretrained.sh',
                                    'scripts/train_pretrained_gpu.sh', 'scripts/train_photo_cpu.sh'])
def test_heldout_names_are_those_of_the_scripts(script):
    found = re.search(r'^HELDOUT_FONTS="([^"]*)"', (REPO / script).read_text(encoding='utf-8'), re.M)
    assert tuple(found.group(1).split()) == npm_fonts.HELDOUT_FONTS


def test_weights_are_400_and_700_or_nearest():
    assert npm_fonts.chosen_weights([100, 400, 700, 900]) == [400, 700]
    assert npm_fonts.chosen_weights([400]) == [400]
    assert npm_fonts.chosen_weights([300, 500, 700]) == [500, 700]


def test_second_run_with_fonts_present_does_nothing(tmp_path):
    output = tmp_path / 'fonts'
    output.mkdir()
    (output / 'gothic-a1-400.ttf').write_bytes(b'placeholder')
    marker = tmp_path / 'npm-was-called'
    fake_npm = tmp_path / 'npm'
    fake_npm.write_text(f'#!/bin/sh\ntouch {marker}\nexit 1\n')
    fake_npm.chmod(0o755)
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'install_npm_fonts.py'), '--output', str(output),
                             '--faces', 'gothic-a1', '--npm', str(fake_npm)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'nothing to do' in result.stderr
    assert not marker.exists()
    assert sorted(p.name for p in output.iterdir()) == ['gothic-a1-400.ttf']
