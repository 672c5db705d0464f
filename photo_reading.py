"""A whole photograph read: text lines detected, each warped to a horizontal crop, vertical lines
re-stacked, long lines cut into words at their ink gaps, every piece read by the recogniser.

    from recognizer import Recognizer
    for found in Recognizer.load().read_photo('menu.jpg'):
        print(found.text, found.confidence, found.points)

A photo that is one word filling the frame (a crop someone already cut) is read whole.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image

SPLITS = ('auto', 'words', 'lines')
VERTICAL_RATIO = 1.5      # a region this many times taller than wide is a vertical line (세로형간판)
WORD_GAP = 0.25           # an ink gap of this many text heights can separate two words
WHOLE_FRAME_COVER = 0.5   # regions covering this share of a photo make it one crop
SMALL_PHOTO = 200         # a photo this many pixels tall or less with no region found is read whole


@dataclass
class PhotoText:
    """One text read in a photo: its text, the recogniser's confidence, and its corners in the photo
    (4 [x, y] pairs, clockwise from top-left)."""
    text: str
    confidence: float
    points: list


@dataclass
class Piece:
    """A part of the photo to read: one image, or several layouts of it (the best read wins)."""
    images: list
    points: np.ndarray  # 4 x 2, in the photo
    horizontal: bool = True  # a read text's words may be laid over its ink gaps


# ---------------------------------------------------------------- geometry

def perspective_coefficients(source, width, height):
    """PIL's PERSPECTIVE coefficients taking the output rectangle (0, 0)-(width, height) to the 4 source
    corners (clockwise from top-left)."""
    target = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, values = [], []
    for (x, y), (u, v) in zip(target, np.asarray(source, dtype=np.float64)):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.array(rows), np.array(values)).tolist()


def warp(picture, points):
    """The quadrilateral `points` of `picture` as an upright rectangle, each side as long as the longer of
    the two it stands for."""
    top_left, top_right, bottom_right, bottom_left = np.asarray(points, dtype=np.float64)
    width = max(np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left))
    height = max(np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right))
    width, height = max(1, int(round(width))), max(1, int(round(height)))
    coefficients = perspective_coefficients(points, width, height)
    return picture.transform((width, height), Image.PERSPECTIVE, coefficients, Image.BICUBIC)


def along(points, start, end):
    """The part of a quadrilateral between fractions `start` and `end` of its length (top-left to
    top-right), as its own quadrilateral."""
    top_left, top_right, bottom_right, bottom_left = np.asarray(points, dtype=np.float64)
    top = lambda f: top_left + (top_right - top_left) * f
    bottom = lambda f: bottom_left + (bottom_right - bottom_left) * f
    return np.array([top(start), top(end), bottom(end), bottom(start)])


# ---------------------------------------------------------------- ink

def otsu_threshold(grey):
    histogram = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    weight = np.cumsum(histogram)
    mean = np.cumsum(histogram * levels)
    total, total_mean = weight[-1], mean[-1]
    between = (total_mean * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1e-9)
    return int(between.argmax())


def ink_mask(image):
    """True where the text is: the Otsu class the crop's border mostly is not (dark on light or light on dark)."""
    grey = np.asarray(image.convert('L'), dtype=np.uint8)
    dark = grey <= otsu_threshold(grey)
    border = np.concatenate([dark[0], dark[-1], dark[:, 0], dark[:, -1]])
    return ~dark if border.mean() > 0.5 else dark


def ink_runs(inked):
    """[(start, end)] of the runs of True in a 1-D array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inked.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def text_band(mask):
    """(top, bottom) of the line's own text: the run of well-inked rows at (or nearest) the crop's
    middle, so a neighbouring line the detector's box grazes is left out."""
    row_ink = mask.sum(axis=1)
    runs = ink_runs(row_ink >= 0.15 * max(row_ink.max(), 1))
    if not runs:
        return 0, mask.shape[0]
    middle = mask.shape[0] / 2
    return min(runs, key=lambda run: 0 if run[0] <= middle < run[1] else min(abs(run[0] - middle), abs(run[1] - middle)))


def without_rules(mask, longest):
    """The mask with every horizontal ink run longer than `longest` removed: underlines, table borders
    and plate edges, which would bridge the gaps between words."""
    mask = mask.copy()
    for row in mask:
        for start, end in ink_runs(row):
            if end - start > longest:
                row[start:end] = False
    return mask


def column_gaps(mask):
    """(first inked column, end of the last, [(start, end)] of the ink gaps between them, the text's
    height) of a horizontal line, in its text band with rules removed; None when it has no ink."""
    top, bottom = text_band(mask)
    mask = without_rules(mask, longest=1.5 * (bottom - top))
    top, bottom = text_band(mask)  # the text's own height, the rules gone
    inked = np.flatnonzero(mask[top:bottom].sum(axis=0) > 0)
    if len(inked) == 0:
        return None
    gaps = [(int(a) + 1, int(b)) for a, b in zip(inked[:-1], inked[1:]) if b - a > 1]
    return int(inked[0]), int(inked[-1]) + 1, gaps, bottom - top


def spans_between(first, last, cuts):
    """[(x0, x1)] from `first` to `last` cut at the gaps `cuts` (each (start, end))."""
    edges = [first] + [x for gap in sorted(cuts) for x in gap] + [last]
    return list(zip(edges[::2], edges[1::2]))


def word_spans(mask, gap_ratio=WORD_GAP):
    """[(x0, x1)] of the words of a horizontal line: cut where the ink stops for at least gap_ratio x the
    text's height and for 2.5 x the line's usual gap between letters, so letter-spaced type stays one
    word. One span when there is no such gap."""
    found = column_gaps(mask)
    if found is None:
        return [(0, mask.shape[1])]
    first, last, gaps, height = found
    widths = [end - start for start, end in gaps]
    min_gap = max(2, gap_ratio * height, 2.5 * float(np.median(widths)) if widths else 0)
    return spans_between(first, last, [gap for gap, width in zip(gaps, widths) if width >= min_gap])


def split_at_spaces(mask, text):
    """[(word, (x0, x1))]: a text read with spaces laid over its crop, each space at one of the widest
    ink gaps (in order); [(text, None)] when the crop has fewer gaps than the text has spaces."""
    words = text.split()
    found = column_gaps(mask) if len(words) > 1 else None
    if found is None or len(found[2]) < len(words) - 1:
        return [(text, None)]
    first, last, gaps, _ = found
    widest = sorted(gaps, key=lambda gap: gap[1] - gap[0], reverse=True)[:len(words) - 1]
    return list(zip(words, spans_between(first, last, widest)))


CELL_RATIOS = (0.9, 1.15, 1.4, 1.7)  # heights of a vertical line's character cells tried, in ink widths


def cell_cuts(row_ink, count):
    """count - 1 cuts of a vertical line into `count` cells: each near where equal cells would end, at
    the emptiest row there (the nearest such row when several are equally empty)."""
    height = len(row_ink)
    step, window = height / count, max(1, int(height / count * 0.35))
    cuts = [0]
    for k in range(1, count):
        expected = int(round(k * step))
        low, high = max(cuts[-1] + 1, expected - window), min(height - 1, expected + window)
        if high < low:
            return None
        rows = np.arange(low, high + 1)
        cuts.append(int(rows[np.lexsort((np.abs(rows - expected), row_ink[low:high + 1]))[0]]))
    return cuts + [height]


def restack_vertical(image):
    """A vertical line of characters (top to bottom) laid out left to right, so a horizontal reader
    reads it: one layout for each character pitch of CELL_RATIOS (faces draw syllables from squat to
    1.7 times taller than wide); read_photo keeps the one read with the most confidence."""
    mask = ink_mask(image)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return [image]
    width = columns[-1] - columns[0] + 1
    margin = max(1, width // 8)
    left, right = max(0, columns[0] - margin), min(image.width, columns[-1] + 1 + margin)
    top, bottom = max(0, rows[0] - margin), min(image.height, rows[-1] + 1 + margin)
    image, row_ink = image.crop((left, top, right, bottom)), mask[top:bottom, left:right].sum(axis=1)
    counts = sorted({max(1, int(round(image.height / (width * ratio)))) for ratio in CELL_RATIOS})
    layouts = []
    for count in counts:
        cuts = cell_cuts(row_ink, count) if count > 1 else [0, image.height]
        if cuts is not None:
            layouts.append(side_by_side([image.crop((0, a, image.width, b)) for a, b in zip(cuts, cuts[1:])],
                                        margin, _background(image)))
    return layouts or [image]


def side_by_side(cells, gap, background):
    side = max(c.height for c in cells)
    line = Image.new(cells[0].mode, (sum(c.width + gap for c in cells) + gap, side), background)
    x = gap
    for cell in cells:
        line.paste(cell, (x, (side - cell.height) // 2))
        x += cell.width + gap
    return line


def _background(image):
    """The crop's border colour (its median), to fill around re-stacked cells."""
    array = np.asarray(image)
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])
    value = np.median(border, axis=0)
    return tuple(int(v) for v in np.atleast_1d(value)) if array.ndim == 3 else int(value)


# ---------------------------------------------------------------- the photo

def is_one_crop(regions, size, max_ratio):
    """True when the photo is itself a word crop: its regions, all on one line, cover most of the frame
    (a letter-spaced sign word is found letter by letter) or lie in a small photo no wider than the
    recogniser reads (`max_ratio` x its height); or a small photo in which the detector (whose boxes
    need a margin around the text) found nothing."""
    width, height = size
    small = height <= SMALL_PHOTO
    if not regions:
        return small
    xs = np.concatenate([r.points[:, 0] for r in regions]).clip(0, width)
    ys = np.concatenate([r.points[:, 1] for r in regions]).clip(0, height)
    covered = (xs.max() - xs.min()) * (ys.max() - ys.min())
    tops, bottoms = [r.points[:, 1].min() for r in regions], [r.points[:, 1].max() for r in regions]
    one_line = max(tops) < min(bottoms)
    return one_line and (covered >= WHOLE_FRAME_COVER * width * height or (small and width <= max_ratio * height))


def region_pieces(picture, region, split, max_ratio):
    """The crops one detected line is read as: itself, its words, or (vertical) its re-stacked characters."""
    crop = warp(picture, region.points)
    if crop.height > VERTICAL_RATIO * crop.width:
        return [Piece(restack_vertical(crop), region.points, horizontal=False)]
    if split == 'lines' or (split == 'auto' and crop.width <= max_ratio * crop.height):
        return [Piece([crop], region.points)]
    spans = word_spans(ink_mask(crop))
    if len(spans) == 1:
        return [Piece([crop], region.points)]
    margin = max(1, crop.height // 10)
    pieces = []
    for x0, x1 in spans:
        x0, x1 = max(0, x0 - margin), min(crop.width, x1 + margin)
        pieces.append(Piece([crop.crop((x0, 0, x1, crop.height))],
                            along(region.points, x0 / crop.width, x1 / crop.width)))
    return pieces


def read_photo(recognizer, detector, picture, split='auto'):
    """The texts of an RGB PIL photo in reading order, as PhotoText. split: 'words' cuts every line at its
    word gaps, 'lines' reads lines whole, 'auto' cuts only lines wider than the recogniser's input."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, not {split!r}')
    regions = detector.detect(picture)
    max_ratio = recognizer.config.imgW / recognizer.config.imgH
    if is_one_crop(regions, picture.size, max_ratio):
        width, height = picture.size
        pieces = [Piece([picture], np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64))]
    else:
        pieces = [piece for region in regions for piece in region_pieces(picture, region, split, max_ratio)]
    if not pieces:
        return []
    readings = iter(recognizer.read([image for piece in pieces for image in piece.images]))
    found = []
    for piece in pieces:
        best = max(((next(readings), image) for image in piece.images), key=lambda pair: pair[0].confidence)
        found += piece_texts(piece, *best)
    return found


def piece_texts(piece, reading, image):
    """The PhotoTexts of one piece read: a word per text, each over its own part of the piece when the
    ink gaps allow."""
    text = reading.text.strip()
    if not text:
        return []
    words = split_at_spaces(ink_mask(image), text) if piece.horizontal else [(text, None)]
    texts = []
    for word, span in words:
        points = piece.points if span is None else along(piece.points, span[0] / image.width, span[1] / image.width)
        texts.append(PhotoText(word if span is not None else text, reading.confidence, np.round(points, 1).tolist()))
    return texts
