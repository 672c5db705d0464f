"""Word crops that look cut from photographs: display type on plates, textures and photos, seen by a camera.

One call, `render_photo_word(text, font, rng, backgrounds)`, goes through the stages a real crop went
through: a style (plate colours, fill, outline, shadow, extrusion, letter-spacing loose or tight,
condensed or extended type, or a receipt's thermal print or an LED board), a surface (flat or gradient
plate, procedural texture, a piece of a photograph), geometry (rotation, perspective, a slight curve), light (uneven, a spot, a colour cast) and the camera
(the text only 10-24 px high, defocus or motion blur, sensor noise, JPEG). The text's ink mask goes
through the geometry beside the image, so no stage cuts a character: the crop keeps all of it inside,
tight or loose. Every random choice comes from `rng`, so an item's seed gives the same image.
"""
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from synth.render import contrasting_colors, keep_ink_inside, perspective

IMAGE_EXTENSIONS = {'.jpg', '.jpeg', '.png', '.webp'}
# Debian's wallpaper packages (plasma-workspace-wallpapers, gnome-backgrounds): photographs and artwork
DEFAULT_BACKGROUND_DIRS = ('/usr/share/wallpapers', '/usr/share/backgrounds')
BACKGROUND_SIDE = 1024  # backgrounds are kept in memory at this size


def luminance(color):
    return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]


def sign_colors(rng):
    """(plate, ink) as printed matter has them: mostly dark on paper-white, often white on a strong
    colour or black, otherwise any readable pair."""
    kind = rng.random()
    if kind < 0.4:
        paper = tuple(rng.randint(195, 255) - rng.randint(0, 25) * (i == 2) for i in range(3))
        ink = rng.choice([(rng.randint(0, 70),) * 3, tuple(rng.randint(0, 110) for _ in range(3)),
                          (rng.randint(120, 200), rng.randint(0, 40), rng.randint(0, 50))])
        return paper, ink
    if kind < 0.65:
        strong = rng.choice([(rng.randint(0, 50),) * 3, (rng.randint(150, 220), rng.randint(0, 40), rng.randint(0, 40)),
                             (rng.randint(0, 40), rng.randint(40, 110), rng.randint(120, 200)),
                             (rng.randint(0, 50), rng.randint(90, 150), rng.randint(40, 90)),
                             tuple(rng.randint(0, 120) for _ in range(3))])
        return strong, tuple(rng.randint(215, 255) for _ in range(3)) if rng.random() < 0.8 else (250, 210, 40)
    return contrasting_colors(rng, min_contrast=rng.choice([70, 110, 150]))


class Backgrounds:
    """Photographs to cut surfaces from: the smallest image of each folder under `folders`, loaded
    once at BACKGROUND_SIDE. Empty (procedural textures only) when none are found."""

    def __init__(self, folders=DEFAULT_BACKGROUND_DIRS):
        smallest = {}
        for folder in folders:
            if not Path(folder).is_dir():
                continue
            for path in sorted(Path(folder).rglob('*')):
                if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
                    size = path.stat().st_size
                    if path.parent not in smallest or size < smallest[path.parent][0]:
                        smallest[path.parent] = (size, path)
        self.paths = [path for _, path in sorted(smallest.values(), key=lambda item: str(item[1]))]
        self._images = {}

    def __len__(self):
        return len(self.paths)

    def _load(self, index):
        if index not in self._images:
            try:
                with Image.open(self.paths[index]) as image:
                    image.draft('RGB', (BACKGROUND_SIDE, BACKGROUND_SIDE))
                    image = ImageOps.exif_transpose(image).convert('RGB')
                    image.thumbnail((BACKGROUND_SIDE, BACKGROUND_SIDE))
            except OSError:
                image = None  # unreadable: the caller falls back to a texture
            self._images[index] = image
        return self._images[index]

    def crop(self, rng, size):
        """A random piece of a random photograph, scaled to `size`, or None."""
        if not self.paths:
            return None
        image = self._load(rng.randrange(len(self.paths)))
        if image is None:
            return None
        scale = rng.uniform(0.15, 0.8)
        width = max(8, int(image.width * scale))
        height = max(8, min(image.height, int(width * size[1] / size[0])))
        x, y = rng.randint(0, image.width - width), rng.randint(0, image.height - height)
        piece = image.crop((x, y, x + width, y + height)).resize(size, Image.BILINEAR)
        if rng.random() < 0.5:
            piece = piece.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3)))  # behind the text plane
        return piece


# ---------------------------------------------------------------- surfaces

def gradient(size, start, end, rng):
    """A linear colour gradient across the surface, at a random angle."""
    width, height = size
    angle = rng.uniform(0, np.pi)
    xs, ys = np.meshgrid(np.linspace(-1, 1, width), np.linspace(-1, 1, height))
    t = (xs * np.cos(angle) + ys * np.sin(angle)) / 2 + 0.5
    colors = np.array(start, np.float32) * (1 - t[..., None]) + np.array(end, np.float32) * t[..., None]
    return Image.fromarray(np.clip(colors, 0, 255).astype(np.uint8))


def texture(size, base, rng):
    """Procedural surface in a base colour: paper/concrete noise, wood or brushed-metal grain, tiles."""
    width, height = size
    noise_rng = np.random.default_rng(rng.randrange(2 ** 32))
    kind = rng.random()
    if kind < 0.4:  # smooth blotchy noise: paper, concrete, plaster
        coarse = noise_rng.normal(0, 1, (max(2, height // 8), max(2, width // 8))).astype(np.float32)
        field = np.asarray(Image.fromarray(coarse).resize(size, Image.BICUBIC))
        field = field * rng.uniform(6, 22) + noise_rng.normal(0, rng.uniform(1, 6), (height, width))
    elif kind < 0.7:  # grain along one axis: wood, brushed metal
        line = noise_rng.normal(0, 1, height if rng.random() < 0.5 else width).astype(np.float32)
        line = np.convolve(line, np.ones(3) / 3, mode='same') * rng.uniform(8, 25)
        field = line[:, None].repeat(width, 1) if line.size == height else line[None, :].repeat(height, 0)
        field = field + noise_rng.normal(0, 2, (height, width))
    else:  # tiles or bricks: a darker grid
        step = rng.randint(8, 40)
        field = noise_rng.normal(0, 3, (height, width))
        field[::step, :] -= rng.uniform(20, 60)
        field[:, ::step] -= rng.uniform(20, 60)
    array = np.array(base, np.float32)[None, None, :] + field[..., None]
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def surface(size, color, rng, backgrounds):
    """What the text is printed on: a flat or gradient plate, a texture, or a photograph (tinted
    towards `color` so the text colour chosen against it stays readable)."""
    kind = rng.random()
    if kind < 0.35:
        return Image.new('RGB', size, color)
    if kind < 0.55:
        other = tuple(int(np.clip(c + rng.uniform(-70, 70), 0, 255)) for c in color)
        return gradient(size, color, other, rng)
    if kind < 0.8:
        return texture(size, color, rng)
    photo = backgrounds.crop(rng, size) if backgrounds is not None else None
    if photo is None:
        return texture(size, color, rng)
    return Image.blend(photo, Image.new('RGB', size, color), rng.uniform(0.5, 0.85))


# ---------------------------------------------------------------- type

def text_mask(text, font_obj, tracking, stroke):
    """The text as an 'L' mask with `tracking` extra pixels between characters (letter-spaced signs;
    the label keeps no space for it), and its ink box."""
    if tracking == 0:
        left, top, right, bottom = font_obj.getbbox(text, stroke_width=stroke)
        mask = Image.new('L', (right - left + 2, bottom - top + 2), 0)
        ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=font_obj, fill=255, stroke_width=stroke,
                                  stroke_fill=255)
        return mask
    advances = [font_obj.getlength(c) for c in text]
    top = min(font_obj.getbbox(c, stroke_width=stroke)[1] for c in text)
    bottom = max(font_obj.getbbox(c, stroke_width=stroke)[3] for c in text)
    # room for glyphs whose ink reaches past their advance (italic f, script faces) on either side
    overhang = font_obj.size + 2 * stroke
    width = int(sum(advances) + tracking * (len(text) - 1) + 2 * stroke + 4) + 2 * overhang
    mask = Image.new('L', (max(width, 4), bottom - top + 2), 0)
    draw = ImageDraw.Draw(mask)
    x = 2 + stroke + overhang
    for char, advance in zip(text, advances):
        draw.text((x, 1 - top), char, font=font_obj, fill=255, stroke_width=stroke, stroke_fill=255)
        x += advance + (tracking if char != ' ' else 0)
    return mask.crop(mask.getbbox() or (0, 0, 4, 4))


def fill_layer(size, color, rng):
    """The ink: flat, or a gradient fill as display type often has."""
    if rng.random() < 0.8:
        return Image.new('RGB', size, color)
    shift = rng.uniform(40, 90) * rng.choice([-1, 1])
    other = tuple(int(np.clip(c + shift, 0, 255)) for c in color)
    return gradient(size, color, other, rng)


def sign_tracking(text, size, rng):
    """Pixels added between characters: letter-spaced (short signs), tight with letters touching as
    bold display capitals are often set, or the font's own spacing."""
    kind = rng.random()
    if kind < 0.2 and len(text) < 12:
        return int(size * rng.uniform(0.1, 0.9))
    if kind < 0.35:
        return -int(size * rng.uniform(0.02, 0.1))
    return 0


def type_width(mask, rng):
    """Condensed or extended type: faces of other widths than the font's, and text squeezed to fit its
    plate (the label is unchanged)."""
    kind = rng.random()
    if kind < 0.2:
        scale = rng.uniform(0.6, 0.9)
    elif kind < 0.3:
        scale = rng.uniform(1.1, 1.35)
    else:
        return mask
    return mask.resize((max(4, round(mask.width * scale)), mask.height), Image.BILINEAR)


def compose_text(text, font, rng, backgrounds):
    """The styled text on its surface, cropped with a margin: (image, ink, text height in px), ink the
    'L' mask of all that was drawn (letters, outline, shadow, extrusion)."""
    size = rng.randint(28, 60)
    font_obj = font.load(size)
    plate, ink = sign_colors(rng)
    bold = rng.randint(1, max(1, size // 16)) if rng.random() < 0.2 else 0
    mask = text_mask(text, font_obj, sign_tracking(text, size, rng), bold)
    mask = type_width(mask, rng)
    effect = rng.random()
    pad = max(4, size // 6)
    width, height = mask.width + 2 * pad, mask.height + 2 * pad
    margin_x, margin_y = int(size * rng.uniform(0.05, 0.7)), int(size * rng.uniform(0.05, 0.4))
    canvas = surface((width + 2 * margin_x, height + 2 * margin_y), plate, rng, backgrounds)
    origin = (margin_x + pad, margin_y + pad)
    full = Image.new('L', canvas.size, 0)
    full.paste(mask, origin)
    drawn = full
    if effect < 0.15:  # outline in a third colour
        outline_width = max(1, size // rng.randint(10, 18))
        outline = full.filter(ImageFilter.MaxFilter(2 * outline_width + 1))
        canvas.paste(contrasting_colors(rng, 60)[0] if rng.random() < 0.5 else plate_opposite(ink), (0, 0), outline)
        drawn = outline
    elif effect < 0.3:  # drop shadow, soft or hard
        offset = (rng.randint(1, max(1, size // 10)), rng.randint(1, max(1, size // 10)))
        shadow = full.transform(canvas.size, Image.AFFINE, (1, 0, -offset[0], 0, 1, -offset[1]))
        if rng.random() < 0.5:
            shadow = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.5)))
        canvas.paste(tuple(int(c * 0.25) for c in plate), (0, 0), shadow)
        drawn = ImageChops.lighter(full, shadow)
    elif effect < 0.38:  # extruded, 3-D: a stack of darker copies
        depth = rng.randint(2, max(2, size // 8))
        direction = (rng.choice([-1, 1]), 1)
        side = tuple(int(c * rng.uniform(0.3, 0.6)) for c in ink)
        for step in range(depth, 0, -1):
            layer = full.transform(canvas.size, Image.AFFINE,
                                   (1, 0, -direction[0] * step, 0, 1, -direction[1] * step))
            canvas.paste(side, (0, 0), layer)
            drawn = ImageChops.lighter(drawn, layer)
    canvas.paste(fill_layer(canvas.size, ink, rng), (0, 0), full)
    return canvas, drawn, mask.height


def plate_opposite(color):
    """Black or white, whichever stands out from `color`."""
    return (0, 0, 0) if luminance(color) > 128 else (255, 255, 255)


def bitmap_glyphs(text, font, rng, tracking):
    """The text as a receipt printer's bitmap font draws it: rendered 12-18 px high without
    anti-aliasing, then blown up with hard pixel edges."""
    small = rng.randint(12, 18)
    mask = text_mask(text, font.load(small), tracking // 2, 0)
    threshold = rng.randint(80, 150)
    mask = mask.point(lambda value: 255 if value > threshold else 0)
    factor = rng.randint(2, 3)
    return mask.resize((mask.width * factor, mask.height * factor), Image.NEAREST)


def thermal_receipt(text, font, rng):
    """A receipt's thermal print: grey-black on off-white paper, faded in patches, dotted edges; often
    at a fixed, wide pitch, and sometimes in a printer's bitmap font. (image, ink, text height)."""
    size = rng.randint(24, 40)
    tracking = int(size * rng.uniform(0.1, 0.45)) if rng.random() < 0.6 else 0
    if rng.random() < 0.35:
        mask = bitmap_glyphs(text, font, rng, tracking)
        size = mask.height
    else:
        mask = text_mask(text, font.load(size), tracking, 0)
    margin = int(size * rng.uniform(0.1, 0.5))
    paper = tuple(rng.randint(215, 250) - offset for offset in (0, rng.randint(0, 8), rng.randint(0, 15)))
    canvas = texture((mask.width + 2 * margin, mask.height + 2 * margin), paper, rng)
    noise_rng = np.random.default_rng(rng.randrange(2 ** 32))
    ink = np.asarray(mask, np.float32) / 255
    fade = np.asarray(Image.fromarray(noise_rng.uniform(0.45, 1, (4, 8)).astype(np.float32)).resize(mask.size, Image.BICUBIC))
    ink = ink * np.clip(fade, 0, 1) * (noise_rng.random(ink.shape) > rng.uniform(0, 0.25))
    full = Image.new('L', canvas.size, 0)
    full.paste(Image.fromarray((ink * 255).astype(np.uint8)), (margin, margin))
    canvas.paste((rng.randint(20, 90),) * 3, (0, 0), full)
    return canvas, full, mask.height


def led_board(text, font, rng):
    """An LED or dot-matrix board: the text sampled on a grid of round lit dots on a dark panel.
    (image, ink: the lit dots and their glow, text height)."""
    rows = rng.randint(12, 18)
    glyphs = text_mask(text, font.load(rows * 2), 0, 0)
    columns = max(4, round(glyphs.width * rows / glyphs.height))
    lit = np.asarray(glyphs.resize((columns, rows), Image.BOX)) > 90
    pitch = rng.randint(4, 6)
    border = 2 * pitch
    panel = Image.new('RGB', (columns * pitch + 2 * border, rows * pitch + 2 * border), (rng.randint(0, 30),) * 3)
    draw = ImageDraw.Draw(panel)
    lit_mask = Image.new('L', panel.size, 0)
    lit_draw = ImageDraw.Draw(lit_mask)
    on = rng.choice([(255, 60, 30), (255, 170, 20), (80, 255, 80), (240, 240, 240), (60, 160, 255)])
    off = tuple(int(c * 0.12) for c in on)
    radius = pitch * rng.uniform(0.3, 0.45)
    for y in range(rows):
        for x in range(columns):
            cx, cy = border + x * pitch + pitch / 2, border + y * pitch + pitch / 2
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=on if lit[y, x] else off)
            if lit[y, x]:
                lit_draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    if rng.random() < 0.6:  # the glow of lit dots
        panel = Image.blend(panel, panel.filter(ImageFilter.GaussianBlur(pitch * 0.6)), 0.4)
        lit_mask = ImageChops.lighter(lit_mask, lit_mask.filter(ImageFilter.GaussianBlur(pitch * 0.6)))
    return panel, lit_mask, rows * pitch


# ---------------------------------------------------------------- geometry, light, camera

def curve(image, rng, fill, ink=None):
    """A slight arc: each column shifted vertically along a parabola or a sine (the canvas grows by the
    arc's height, so nothing is cut). With `ink`, the text's 'L' mask, returns (image, ink)."""
    array = np.asarray(image)
    height, width = array.shape[:2]
    amplitude = rng.uniform(0.03, 0.12) * height
    xs = np.linspace(-1, 1, width)
    shifts = (amplitude * (xs ** 2 if rng.random() < 0.5 else np.sin(xs * np.pi * rng.uniform(0.5, 1.2))))
    shifts = np.round(shifts * rng.choice([-1, 1])).astype(int)
    lift = int(np.abs(shifts).max())

    def bend(source, background):
        out = np.empty((height + 2 * lift,) + source.shape[1:], np.uint8)
        out[:] = background
        for x in range(width):
            out[lift + shifts[x]:lift + shifts[x] + height, x] = source[:, x]
        return Image.fromarray(out)

    if ink is None:
        return bend(array, fill)
    return bend(array, fill), bend(np.asarray(ink), 0)


def lighting(image, rng):
    """Uneven light: a brightness ramp or a spot, and a colour cast."""
    array = np.asarray(image, np.float32)
    height, width = array.shape[:2]
    if rng.random() < 0.5:
        xs, ys = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
        if rng.random() < 0.5:
            gain = rng.uniform(0.55, 1.0) + (xs * np.cos(rng.uniform(0, 6.3)) + ys * np.sin(rng.uniform(0, 6.3))) * rng.uniform(0.1, 0.5)
        else:
            cx, cy = rng.random(), rng.random()
            gain = 0.6 + rng.uniform(0.3, 0.7) * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / rng.uniform(0.05, 0.5))
        array = array * gain[..., None]
    if rng.random() < 0.4:
        array = array * np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))


def motion_blur(image, rng):
    """A short straight smear (hand shake): the average of shifted copies along one direction (the
    edges repeated into the shift, not wrapped round: no ink smeared in from the far side)."""
    length = rng.randint(2, 5)
    angle = rng.uniform(0, np.pi)
    array = np.asarray(image, np.float32)
    height, width = array.shape[:2]
    padded = np.pad(array, ((length, length), (length, length), (0, 0)), mode='edge')
    total = np.zeros_like(array)
    for step in range(length):
        dx, dy = int(round(np.cos(angle) * step)), int(round(np.sin(angle) * step))
        total += padded[length - dy:length - dy + height, length - dx:length - dx + width]
    return Image.fromarray((total / length).astype(np.uint8))


MIN_LEVEL_SPREAD = 30  # grey levels between a crop's 1st and 99th percentiles, below which the text fades


def auto_levels(image):
    """A camera's auto-exposure on a flat scene: a crop whose low-contrast text, shrunk and blurred, has
    faded into its plate (about 1 in 200 draws) gets its levels stretched, so every crop shows the text
    its label names."""
    gray = np.asarray(image.convert('L'))
    if np.percentile(gray, 99) - np.percentile(gray, 1) >= MIN_LEVEL_SPREAD:
        return image
    return ImageOps.autocontrast(image, cutoff=1)


def camera(image, text_height, rng):
    """The photograph: the text shrunk to 10-24 px high and brought back (lost detail), blur, auto-exposure,
    noise, JPEG."""
    if rng.random() < 0.6:
        target = rng.uniform(10, 24)
        scale = min(1.0, target / max(text_height, 1))
        small = (max(4, int(image.width * scale)), max(4, int(image.height * scale)))
        image = image.resize(small, rng.choice([Image.BILINEAR, Image.BICUBIC, Image.BOX]))
        if rng.random() < 0.5:  # some crops are stored upscaled, some as small as they were cut
            image = image.resize((int(small[0] / scale), int(small[1] / scale)), Image.BICUBIC)
    blur = rng.random()
    if blur < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.6)))
    elif blur < 0.45:
        image = motion_blur(image, rng)
    image = auto_levels(image)
    if rng.random() < 0.5:
        noise_rng = np.random.default_rng(rng.randrange(2 ** 32))
        array = np.asarray(image, np.float32)
        array = array + noise_rng.normal(0, rng.uniform(2, 12), array.shape)
        image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    if rng.random() < 0.7:
        buffer = io.BytesIO()
        image.save(buffer, format='JPEG', quality=rng.randint(15, 90))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert('RGB')
    return image


def render_photo_word(text, font, rng, backgrounds=None):
    """One word crop as if cut from a photograph of a sign, menu, receipt, card or board. Rotation,
    perspective and curve move the text's ink mask with the image, and the crop keeps all the ink
    MIN_MARGIN px or more inside its frame."""
    kind = rng.random()
    if kind < 0.1:
        image, ink, text_height = thermal_receipt(text, font, rng)
    elif kind < 0.14 and len(text) <= 14:
        image, ink, text_height = led_board(text, font, rng)
    else:
        image, ink, text_height = compose_text(text, font, rng, backgrounds)
    fill = tuple(int(v) for v in np.asarray(image)[0, 0])
    if rng.random() < 0.5:
        angle = rng.uniform(-4, 4)
        image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=fill)
        ink = ink.rotate(angle, resample=Image.BICUBIC, expand=True)
    if rng.random() < 0.4:
        image, ink = perspective(image, rng, strength=rng.uniform(0.03, 0.1), fill=fill, ink=ink,
                                 text_height=text_height)
    if rng.random() < 0.15:
        image, ink = curve(image, rng, fill, ink)
    image = keep_ink_inside(image, ink, fill)
    image = lighting(image, rng)
    return camera(image, text_height, rng)
