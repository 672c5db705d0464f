"""The one way every script opens an image: as a camera or an editor meant it to be seen.

- EXIF orientation applied (a phone photo stored sideways is turned upright, so crops and predictions
  see the picture its viewer sees);
- 16- and 32-bit greyscale scaled to 8 bits (a plain convert clips them to white) and float images
  scaled from [0, 1];
- transparency composited on white (a plain convert turns transparent pixels black);
- palette, CMYK, YCbCr, LAB, HSV and 1-bit converted.
"""
import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                 ZeroDivisionError, EOFError)


def _to_8bit(image):
    """I;16*, I and F images as 8-bit 'L' by their range."""
    array = np.asarray(image)
    if image.mode == 'F':
        array = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        scale = 255.0 if array.max(initial=0) <= 1.0 else 1.0
        return Image.fromarray(np.clip(array * scale, 0, 255).astype(np.uint8), 'L')
    array = array.astype(np.int64)
    if image.mode.startswith('I;16') or array.max(initial=0) > 255:
        array = array // 257 if array.max(initial=0) <= 65535 else array * 255 // max(int(array.max()), 1)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), 'L')


def _flatten(image):
    """RGB or L without transparency, whatever the mode."""
    if image.mode in ('I', 'F') or image.mode.startswith('I;16'):
        return _to_8bit(image)
    if image.mode == 'P':
        image = image.convert('RGBA' if 'transparency' in image.info else 'RGB')
    elif image.mode == 'L' and 'transparency' in image.info:
        image = image.convert('LA')
    elif image.mode == 'RGB' and 'transparency' in image.info:
        image = image.convert('RGBA')
    if image.mode in ('RGBA', 'LA', 'La', 'RGBa', 'PA'):
        rgba = image.convert('RGBA')
        white = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert('RGB')
    if image.mode in ('L', 'RGB'):
        return image
    return image.convert('RGB')  # 1, CMYK, YCbCr, LAB, HSV, RGBX


def flatten(image, rgb=False):
    """A PIL image -> 'RGB' (rgb) or 'L', upright and without transparency."""
    return _flatten(ImageOps.exif_transpose(image)).convert('RGB' if rgb else 'L')


def from_array(array, rgb=False):
    """A numpy image (H x W grey of any depth, H x W x 1/3/4 uint8 or float in [0, 1]) -> flat PIL image;
    ValueError for any other shape."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype != np.uint8:
        scale = 255.0 if np.nanmax(array, initial=0) <= 1.0 else 1.0
        array = np.clip(np.nan_to_num(array.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or 0 in array.shape:
        raise ValueError(f'a numpy image must be a non-empty H x W or H x W x 1/3/4 array, not {array.shape}')
    if array.ndim == 2 and array.dtype == np.float64:
        array = array.astype(np.float32)  # PIL's float mode is 32-bit
    return flatten(Image.fromarray(array), rgb)


def open_image(source, rgb=False):
    """A path or encoded bytes -> PIL image in 'RGB' (rgb) or 'L', upright and flat; None when it cannot
    be decoded."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source) as image:
            image.load()
            return flatten(image, rgb)
    except DECODE_ERRORS:
        return None
