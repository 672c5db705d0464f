"""Rendering: a word crop (the font-image set) and a signboard photo with several text boxes.

Every random choice comes from the `rng` passed in, so a seed gives the same images.
"""
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps


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


def draw_text_horizontal(text, font_obj, foreground, background, rng, stroke=0):
    """Text on a plate, cropped to the ink plus a random margin (tight to loose crops)."""
    left, top, right, bottom = font_obj.getbbox(text, stroke_width=stroke)
    height = bottom - top
    margin_x = int(height * rng.uniform(0.02, 0.6))
    margin_y = int(height * rng.uniform(0.02, 0.35))
    width = right - left + 2 * margin_x
    image = Image.new('RGB', (max(width, 4), max(height + 2 * margin_y, 4)), background)
    ImageDraw.Draw(image).text((margin_x - left, margin_y - top), text, font=font_obj, fill=foreground,
                               stroke_width=stroke, stroke_fill=foreground)
    return image


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


def perspective(image, rng, strength=0.08, fill=(0, 0, 0)):
    """A mild random projective warp (camera not facing the sign)."""
    width, height = image.size
    jitter = lambda: rng.uniform(-strength, strength)
    corners = [(jitter() * width, jitter() * height), (width + jitter() * width, jitter() * height),
               (width + jitter() * width, height + jitter() * height), (jitter() * width, height + jitter() * height)]
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    matrix = []
    for (x, y), (u, v) in zip(corners, source):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coefficients = np.linalg.solve(np.array(matrix), np.array(source).reshape(8))
    return image.transform((width, height), Image.PERSPECTIVE, tuple(coefficients), Image.BICUBIC, fillcolor=fill)


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
    """A word crop as the font-image set has it: one text per image, varied style and damage."""
    size = height or rng.randint(24, 56)
    font_obj = font.load(size)
    background, foreground = contrasting_colors(rng, min_contrast=rng.choice([60, 110, 160]))
    stroke = 1 if rng.random() < 0.1 and size > 30 else 0
    image = draw_text_horizontal(text, font_obj, foreground, background, rng, stroke=stroke)
    if rng.random() < 0.5 * degrade_strength:
        image = image.rotate(rng.uniform(-3, 3), resample=Image.BICUBIC, expand=True, fillcolor=background)
    if rng.random() < 0.4 * degrade_strength:
        image = perspective(image, rng, strength=0.05, fill=background)
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

