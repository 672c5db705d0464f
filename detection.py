"""Text detection, the stage in front of the recogniser: where the text lines of a whole photograph are.

The detector is PP-OCR's DB text detector (PP-OCRv6 small, multilingual), the ONNX file RapidOCR ships
inside its wheel, run by RapidOCR on ONNX Runtime. Nothing is downloaded: the model path is given to
RapidOCR, which otherwise fetches models from the web on first use.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils import UserError

BUNDLED_MODEL = 'PP-OCRv6_det_small.onnx'


@dataclass
class TextRegion:
    """A detected text line: its corners (4 x 2 floats, clockwise from top-left) and the detector's score."""
    points: np.ndarray
    score: float


def bundled_model_path():
    try:
        import rapidocr
    except ImportError:
        raise UserError('reading whole photos needs RapidOCR (its text detector): pip install -r requirements.txt') from None
    path = Path(rapidocr.__file__).parent / 'models' / BUNDLED_MODEL
    if not path.is_file():
        raise UserError(f'RapidOCR is installed without its bundled detector {path.name}: pip install rapidocr==3.10.0')
    return path


def clockwise_from_top_left(points):
    """4 corners in any order -> top-left, top-right, bottom-right, bottom-left."""
    points = np.asarray(points, dtype=np.float32).reshape(4, 2)
    by_sum, by_diff = points.sum(axis=1), np.diff(points, axis=1).ravel()
    ordered = np.array([points[by_sum.argmin()], points[by_diff.argmin()], points[by_sum.argmax()],
                        points[by_diff.argmax()]])
    if len({tuple(p) for p in ordered.tolist()}) < 4:  # a 45-degree box defeats the sums: go by angle
        centre = points.mean(axis=0)
        angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
        ordered = points[np.argsort(angles)]
        ordered = np.roll(ordered, -int(ordered.sum(axis=1).argmin()), axis=0)
    return ordered


class TextDetector:
    """detect(picture) -> the text lines of an RGB PIL image, in reading order (top to bottom, then left
    to right), as RapidOCR sorts them.

    box_threshold: the mean text probability a region needs (RapidOCR's box_thresh); unclip_ratio: how
    far a region is grown around its core (text kernels are shrunk in DB training); max_side: photos
    larger than this are scaled down for detection (the boxes come back in the photo's own pixels)."""

    def __init__(self, model_path=None, box_threshold=0.5, unclip_ratio=1.6, max_side=2000):
        model_path = Path(model_path) if model_path else bundled_model_path()
        if not model_path.is_file():
            raise UserError(f'detector model {model_path} does not exist')
        from rapidocr import RapidOCR
        self.engine = RapidOCR(params={
            'Det.model_path': str(model_path), 'Det.box_thresh': box_threshold, 'Det.unclip_ratio': unclip_ratio,
            'Global.max_side_len': max_side, 'Global.use_cls': False, 'Global.use_rec': False,
            'Global.log_level': 'error'})

    def detect(self, picture):
        bgr = np.ascontiguousarray(np.asarray(picture.convert('RGB'))[:, :, ::-1])
        output = self.engine(bgr, use_det=True, use_cls=False, use_rec=False)
        if output.boxes is None:
            return []
        return [TextRegion(clockwise_from_top_left(box), float(score))
                for box, score in zip(output.boxes, output.scores)]
