"""The synthetic word crops never cut their text: rotation, perspective and curve keep every character's
ink inside the crop, clear of its border (a crop labelled `297×420×464m` that shows no final m teaches the
model to drop final characters).

The measurement is exact for the renderers as they are: each crop is rendered twice from the same seed,
the second time with every ink colour shifted by 128 per channel (text drawn with ImageDraw.text, layers
pasted through a mask onto the RGB plate, lit LED dots), and with the stages after the geometry (light,
camera, degrade: per-pixel or whole-image, they crop nothing) left out. All random draws are the same, so
the geometry is the same and the pixels that differ are exactly the ink: text, outline, shadow,
extrusion. Each perspective warp is also redone on a canvas extended on every side, to see ink it pushes
out of its frame.
"""
import contextlib
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

import synth.photo as photo
import synth.render as render
from synth.words import TextSampler

COUNT = 200  # crops per style
LENGTH = 20  # characters: long texts are the ones a warp cuts
INK = 32  # |difference| of 128: a quarter coverage or more (bicubic ringing beside an edge stays below)
CLEAR = 2  # px along each border that must hold no ink


def _shifted(color):
    if isinstance(color, (tuple, list)):
        return tuple((int(c) + 128) % 256 for c in color)
    return (color + 128) % 256 if isinstance(color, int) else color


@contextlib.contextmanager
def _patched(shift, record):
    """Light, camera and degrade left out; with `shift`, every ink colour moved by 128; with `record`
    (a list), each perspective warp of an RGB image also done on a canvas half its size larger on every
    side and appended as (pad, size, array)."""
    saved = []

    def put(owner, name, value):
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    put(render, 'degrade', lambda image, rng, strength=1.0: image)
    put(photo, 'lighting', lambda image, rng: image)
    put(photo, 'camera', lambda image, text_height, rng: image)
    if shift:
        text, paste, ellipse = ImageDraw.ImageDraw.text, Image.Image.paste, ImageDraw.ImageDraw.ellipse

        def shifted_text(self, xy, text_, fill=None, *args, **kwargs):
            if self.mode == 'RGB':
                fill = _shifted(fill)
                if kwargs.get('stroke_fill') is not None:
                    kwargs['stroke_fill'] = _shifted(kwargs['stroke_fill'])
            return text(self, xy, text_, fill, *args, **kwargs)

        def shifted_paste(self, im, box=None, mask=None):
            if self.mode == 'RGB' and mask is not None:
                im = im.point(lambda v: (v + 128) % 256) if isinstance(im, Image.Image) else _shifted(im)
            return paste(self, im, box, mask)

        def shifted_ellipse(self, xy, fill=None, *args, **kwargs):
            if self.mode == 'RGB' and isinstance(fill, tuple) and max(fill) >= 200:  # a lit LED dot
                fill = _shifted(fill)
            return ellipse(self, xy, fill, *args, **kwargs)

        put(ImageDraw.ImageDraw, 'text', shifted_text)
        put(Image.Image, 'paste', shifted_paste)
        put(ImageDraw.ImageDraw, 'ellipse', shifted_ellipse)
    if record is not None:
        transform = Image.Image.transform

        def recorded_transform(self, size, method, data=None, resample=0, fill=1, fillcolor=None):
            out = transform(self, size, method, data, resample, fill, fillcolor)
            if method == Image.Transform.PERSPECTIVE and self.mode == 'RGB':
                pad = max(size) // 2
                a, b, c, d, e, f, g, h = data
                k = 1 - g * pad - h * pad  # the same warp, output coordinates moved by pad
                moved = (a / k, b / k, (c - a * pad - b * pad) / k, d / k, e / k, (f - d * pad - e * pad) / k,
                         g / k, h / k)
                big = transform(self, (size[0] + 2 * pad, size[1] + 2 * pad), method, moved, resample, fill,
                                fillcolor)
                record.append((pad, size, np.asarray(big, np.int16)))
            return out

        put(Image.Image, 'transform', recorded_transform)
    try:
        yield
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


def ink_after_geometry(make, seed):
    """(bool ink map of the crop as the geometry leaves it, whether a warp pushed ink out of its frame)."""
    images, records = [], []
    for shift in (False, True):
        record = []
        with _patched(shift, record):
            images.append(np.asarray(make(random.Random(seed)), np.int16))
        records.append(record)
    assert images[0].shape == images[1].shape and len(records[0]) == len(records[1])
    ink = np.abs(images[0] - images[1]).max(axis=2) >= INK
    lost = False
    for (pad, (width, height), first), (_, _, second) in zip(*records):
        outside = np.abs(first - second).max(axis=2) >= INK
        outside[pad:pad + height, pad:pad + width] = False
        lost |= bool(outside.any())
    return ink, lost


def long_text(sampler, rng, font):
    """A text of exactly LENGTH characters the font draws: sampled texts joined by spaces."""
    while True:
        parts = []
        while len(' '.join(parts)) < LENGTH:
            parts.append(sampler.sample(rng, font.can_draw))
        text = ' '.join(parts)[:LENGTH]
        if text == text.strip():
            return text


@pytest.fixture(scope='module')
def sampler(charset):
    return TextSampler(charset, max_length=25)


@pytest.mark.parametrize('style', ['print', 'photo'])
def test_no_text_ink_is_cut_or_left_at_the_border(style, fonts, sampler, tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(tmp_path / 'bg.jpg')
    backgrounds = photo.Backgrounds([tmp_path])
    failures = []
    for i in range(COUNT):
        rng = random.Random(f'text:{i}')
        font = fonts[i % len(fonts)]
        text = long_text(sampler, rng, font)
        if style == 'print':
            make = lambda r: render.render_word(text, font, r)  # noqa: E731
        else:
            make = lambda r: photo.render_photo_word(text, font, r, backgrounds)  # noqa: E731
        ink, lost = ink_after_geometry(make, f'{style}:{i}')
        assert ink.any(), f'no ink found in crop {i}: the measurement no longer sees the text'
        sides = [name for name, edge in (('left', ink[:, :CLEAR]), ('right', ink[:, -CLEAR:]),
                                         ('top', ink[:CLEAR]), ('bottom', ink[-CLEAR:])) if edge.any()]
        if lost or sides:
            failures.append((i, text, font.name, sides + ['lost'] * lost))
    assert not failures, f'{len(failures)} of {COUNT} {style} crops cut or touch their text: {failures[:5]}'


def test_crops_of_long_texts_are_the_same_for_their_seed(fonts, tmp_path):
    """The ink mask, widened frames and their random margins keep every crop a function of its seed."""
    text = '297×420×464mm 가나다라마바사'
    for seed in range(12):
        for make in (lambda r: render.render_word(text, fonts[0], r),
                     lambda r: photo.render_photo_word(text, fonts[0], r, photo.Backgrounds([tmp_path]))):
            first, second = make(random.Random(seed)), make(random.Random(seed))
            assert first.size == second.size and first.tobytes() == second.tobytes()
