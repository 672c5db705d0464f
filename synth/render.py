"""Rendering: a word crop (the font-image set) and a signboard photo with several text boxes.

Every random choice comes from the `rng` passed in, so a seed gives the same images.
"""
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

MIN_MARGIN = 2  # px of background every word crop keeps around its ink, however tight: tight, never cut


def _color(rng, low=0, high=255):
    return tuple(rng.randint(low, high) for _ in range(3))


def contrasting_colors(rng, min_contrast=90):
    """(background, foreground) whose luminance differs by at least min_contrast (low-contrast signs exist
    but must stay readable)."""
    while True:
        background, foreground = _color(rng), _color(rng)
        luminance = [0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] for c in (background, foreground)]
        if abs(luminance[0] - luminance[1]) >= min_contrast:
            return background, foreground


def draw_text_horizontal(text, font_obj, foreground, background, rng, stroke=0, with_ink=False):
    """Text on a plate, cropped to the ink plus a random margin (tight to loose crops, never under
    MIN_MARGIN). with_ink: (image, ink), ink the text's 'L' mask on the same frame, for the geometry."""
    left, top, right, bottom = font_obj.getbbox(text, stroke_width=stroke)
    height = bottom - top
    margin_x = max(MIN_MARGIN, int(height * rng.uniform(0.02, 0.6)))
    margin_y = max(MIN_MARGIN, int(height * rng.uniform(0.02, 0.35)))
    width = right - left + 2 * margin_x
    size = (max(width, 4), max(height + 2 * margin_y, 4))
    origin = (margin_x - left, margin_y - top)
    image = Image.new('RGB', size, background)
    ImageDraw.Draw(image).text(origin, text, font=font_obj, fill=foreground, stroke_width=stroke,
                               stroke_fill=foreground)
    if not with_ink:
        return image
    ink = Image.new('L', size, 0)
    ImageDraw.Draw(ink).text(origin, text, font=font_obj, fill=255, stroke_width=stroke, stroke_fill=255)
    return image, ink


def draw_text_vertical(text, font_obj, foreground, background, rng):
    """Characters stacked top to bottom, as on vertical signboards."""
    size = font_obj.size
    step = int(size * rng.uniform(1.0, 1.2))
    margin = int(size * rng.uniform(0.1, 0.4))
    image = Image.new('RGB', (size + 2 * margin, step * len(text) + 2 * margin), background)
    draw = ImageDraw.Draw(image)
    for i, char in enumerate(text):
        left, top, right, bottom = font_obj.getbbox(char)
        x = margin + (size - (right - left)) // 2 - left
        draw.text((x, margin + i * step - top + (size - (bottom - top)) // 2), char, font=font_obj, fill=foreground)
    return image


def _perspective_coefficients(corners, size):
    """PIL's PERSPECTIVE data that puts the corners of an image of `size` at `corners` (clockwise from
    top left)."""
    width, height = size
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    matrix = []
    for (x, y), (u, v) in zip(corners, source):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return tuple(np.linalg.solve(np.array(matrix), np.array(source).reshape(8)))


def perspective(image, rng, strength=0.08, fill=(0, 0, 0), ink=None, text_height=None):
    """A mild random projective warp (camera not facing the sign): each corner moves by up to `strength`
    of the width and height, inwards (the fill shows) or outwards (the plate is cut by the frame).

    With `ink` (the text's 'L' mask on the image's frame) returns (image, ink), and the text is never cut:
    on a side where the warp would push ink out of the frame or within MIN_MARGIN of it, the frame is
    widened to the warped ink plus a random margin (MIN_MARGIN to a quarter of `text_height`, by default
    the ink's height), showing the plate the warp pushed outwards. Elsewhere the frame stays, pixel for
    pixel as without `ink`."""
    width, height = image.size
    jitter = lambda: rng.uniform(-strength, strength)
    corners = [(jitter() * width, jitter() * height), (width + jitter() * width, jitter() * height),
               (width + jitter() * width, height + jitter() * height), (jitter() * width, height + jitter() * height)]
    warp = lambda im, size, points, color: im.transform(size, Image.PERSPECTIVE,
                                                        _perspective_coefficients(points, (width, height)),
                                                        Image.BICUBIC, fillcolor=color)
    if ink is None:
        return warp(image, (width, height), corners, fill)
    box = ink.getbbox()
    if box is None:
        return warp(image, (width, height), corners, fill), ink
    text_height = text_height or box[3] - box[1]
    # the warped plate lies within the corners' hull: strength * side beyond the frame, then room for a margin
    pad_x = math.ceil(strength * width) + text_height // 2 + 2 * MIN_MARGIN + 2
    pad_y = math.ceil(strength * height) + text_height // 2 + 2 * MIN_MARGIN + 2
    canvas = (width + 2 * pad_x, height + 2 * pad_y)
    moved = [(x + pad_x, y + pad_y) for x, y in corners]
    warped_ink = warp(ink, canvas, moved, 0)
    frame = (pad_x, pad_y, pad_x + width, pad_y + height)
    box = warped_ink.getbbox()
    near = [box[0] - frame[0] < MIN_MARGIN, box[1] - frame[1] < MIN_MARGIN,
            frame[2] - box[2] < MIN_MARGIN, frame[3] - box[3] < MIN_MARGIN]
    if not any(near):
        return warp(image, (width, height), corners, fill), warped_ink.crop(frame)
    margin = max(MIN_MARGIN, round(text_height * rng.uniform(0.03, 0.25)))
    window = (box[0] - margin if near[0] else frame[0], box[1] - margin if near[1] else frame[1],
              box[2] + margin if near[2] else frame[2], box[3] + margin if near[3] else frame[3])
    window = (max(0, window[0]), max(0, window[1]), min(canvas[0], window[2]), min(canvas[1], window[3]))
    return warp(image, canvas, moved, fill).crop(window), warped_ink.crop(window)


def keep_ink_inside(image, ink, fill, margin=MIN_MARGIN):
    """The image, widened with `fill` on any side where its ink (an 'L' mask on the same frame) comes
    closer than `margin` px to the edge (after a rotation's resampling, say)."""
    box = ink.getbbox()
    if box is None:
        return image
    left, top = max(0, margin - box[0]), max(0, margin - box[1])
    right, bottom = max(0, margin - (image.width - box[2])), max(0, margin - (image.height - box[3]))
    if not (left or top or right or bottom):
        return image
    out = Image.new(image.mode, (image.width + left + right, image.height + top + bottom), fill)
    out.paste(image, (left, top))
    return out


def degrade(image, rng, strength=1.0):
    """Camera-like damage: lighting, blur, noise, JPEG artefacts."""
    if rng.random() < 0.5 * strength:
        factor = rng.uniform(0.6, 1.35)
        image = image.point(lambda v: max(0, min(255, int(v * factor))))
    if rng.random() < 0.3 * strength:  # uneven light: a horizontal gradient
        width, height = image.size
        ramp = np.linspace(rng.uniform(0.65, 1.0), rng.uniform(0.9, 1.2), width)[None, :, None]
        image = Image.fromarray(np.clip(np.asarray(image, dtype=np.float32) * ramp, 0, 255).astype(np.uint8))
    if rng.random() < 0.45 * strength:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3)))
    if rng.random() < 0.45 * strength:
        noise_rng = np.random.default_rng(rng.randrange(2 ** 32))
        array = np.asarray(image, dtype=np.float32)
        array = array + noise_rng.normal(0, rng.uniform(3, 14), array.shape)
        image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    if rng.random() < 0.6 * strength:
        buffer = io.BytesIO()
        image.save(buffer, format='JPEG', quality=rng.randint(25, 90))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert('RGB')
    return image


def render_word(text, font, rng, height=None, degrade_strength=1.0):
    """A word crop as the font-image set has it: one text per image, varied style and damage. The rotation
    and perspective never cut the text: its ink stays MIN_MARGIN or more inside the crop."""
    size = height or rng.randint(24, 56)
    font_obj = font.load(size)
    background, foreground = contrasting_colors(rng, min_contrast=rng.choice([60, 110, 160]))
    stroke = 1 if rng.random() < 0.1 and size > 30 else 0
    image, ink = draw_text_horizontal(text, font_obj, foreground, background, rng, stroke=stroke, with_ink=True)
    box = ink.getbbox()
    text_height = box[3] - box[1] if box else size
    if rng.random() < 0.5 * degrade_strength:
        angle = rng.uniform(-3, 3)
        image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=background)
        ink = ink.rotate(angle, resample=Image.BICUBIC, expand=True)
    if rng.random() < 0.4 * degrade_strength:
        image, ink = perspective(image, rng, strength=0.05, fill=background, ink=ink, text_height=text_height)
    image = keep_ink_inside(image, ink, background)
    return degrade(image, rng, degrade_strength)


def render_signboard(texts, fonts, rng, width=800, height=600):
    """A street photo with one plate per text: returns (image, [(text, [x, y, w, h], vertical)]).

    Each bbox encloses its plate's text region as pasted (clipped to the photo)."""
    photo = Image.new('RGB', (width, height), _color(rng, 40, 220))
    draw = ImageDraw.Draw(photo)
    for _ in range(rng.randint(3, 8)):  # background clutter: walls, windows
        x0, y0 = rng.randint(-100, width), rng.randint(-100, height)
        draw.rectangle([x0, y0, x0 + rng.randint(40, 400), y0 + rng.randint(40, 300)], fill=_color(rng))
    boxes, occupied = [], []
    for text, font in zip(texts, fonts):
        vertical = len(text) <= 6 and ' ' not in text and rng.random() < 0.25
        size = rng.randint(24, 64)
        background, foreground = contrasting_colors(rng)
        font_obj = font.load(size)
        plate = (draw_text_vertical(text, font_obj, foreground, background, rng) if vertical
                 else draw_text_horizontal(text, font_obj, foreground, background, rng))
        plate = plate.rotate(rng.uniform(-4, 4), resample=Image.BICUBIC, expand=True, fillcolor=background)
        if plate.width >= width or plate.height >= height:
            plate = ImageOps.contain(plate, (width - 10, height - 10))
        placed = _place(plate.size, (width, height), occupied, rng)
        if placed is None:
            continue
        photo.paste(plate, placed)
        box = [placed[0], placed[1], plate.width, plate.height]
        occupied.append(box)
        boxes.append((text, box, vertical))
    return degrade(photo, rng, strength=0.8), boxes


def _place(size, canvas, occupied, rng, tries=30):
    """Top-left corner for a plate that overlaps no other plate, or None."""
    width, height = size
    for _ in range(tries):
        x, y = rng.randint(0, canvas[0] - width), rng.randint(0, canvas[1] - height)
        if all(x + width <= ox or ox + ow <= x or y + height <= oy or oy + oh <= y for ox, oy, ow, oh in occupied):
            return x, y
    return None

