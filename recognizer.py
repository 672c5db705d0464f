"""kocrnn from Python: a trained model that reads images, with no shell in between.

    from recognizer import Recognizer
    reader = Recognizer.load()                       # the shipped model, pretrained_models/kocrnn.pth
    for reading in reader.read(['crop.png', pil_image, numpy_array]):
        print(reading.text, reading.confidence)

`Recognizer.load(path)` takes a kocrnn or dtrb `.pth` (a dtrb file names its stages and charset as
keyword arguments: `Recognizer.load('TPS-ResNet-BiLSTM-Attn.pth', Transformation='TPS', ...)`) or an
`export_onnx.py` model (`.onnx`, run by ONNX Runtime). demo.py reads through the same object.
`reader.read_photo('menu.jpg')` reads a whole photograph (text detection first, photo_reading.py).
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from checkpoint import load_checkpoint, load_weights
from dataset import AlignCollate
from charset import check_characters
from decoding import check_decoding, decoding_from_spec
from detection import TextDetector
from heads import make_head
from images import flatten, from_array, open_image
from model import Model
from onnx_recognizer import OnnxModel
from options import model_namespace, resolve_setup
from photo_reading import read_photo
from precision import AMP_CHOICES, FP32, resolve_precision
from safe_files import read_bytes, regular_file
from utils import REPO_DIR, UserError

DEFAULT_MODEL = REPO_DIR / 'pretrained_models' / 'kocrnn.pth'


@dataclass
class Reading:
    text: str
    confidence: float


class Recognizer:
    """A model ready to read: its config, charset, head, resize mode, decoding and precision.

    `network` is a PyTorch Model (eval mode) or an OnnxModel; read_batch() is the one place either runs."""

    def __init__(self, network, config, characters, PAD, decoding=None, precision=FP32, model_decoding=None,
                 source='the model'):
        """decoding: a Decoding, or None for the one the model file names (`model_decoding`, a decoding spec
        as decoding.py describes it; greedy when it names none)."""
        self.network, self.config, self.characters, self.PAD = network, config, list(characters), bool(PAD)
        self.head = make_head(config.Prediction, characters, config.batch_max_length)
        self.precision, self.model_decoding, self.source = precision, model_decoding, source
        self.decoding = decoding
        self.detector = None  # made by the first read_photo()

    @property
    def decoding(self):
        return self._decoding

    @decoding.setter
    def decoding(self, decoding):
        """A Decoding, a spec string (`beam:8:default:2`), or None for the one the model file names."""
        decoding = check_decoding(decoding)
        if decoding is None:
            decoding = decoding_from_spec(self.model_decoding, self.source)
        if self.is_onnx and not self.head.decodes_from_scores(decoding):
            raise UserError('attention beam search runs the decoder step by step in PyTorch; the ONNX graph '
                            'holds greedy steps only: drop --beam_size or use the .pth')
        self._decoding = decoding

    @property
    def is_onnx(self):
        return isinstance(self.network, OnnxModel)

    @classmethod
    def load(cls, path=None, *, options=None, decoding=None, amp='auto', device=None, threads=None,
             **model_options):
        """path: a .pth (default: the shipped model) or an .onnx. options: an argparse namespace holding the
        model flags (options.add_model_arguments); or give them as keyword arguments. decoding: a Decoding,
        or None for the one the model file names (greedy if none). amp: auto|on|off (the PyTorch path).
        threads: ONNX Runtime's intra-op threads (default all cores). The model file is input: its stored
        options, charset and decoding are checked as the flags are."""
        if amp not in AMP_CHOICES:
            raise UserError(f'amp must be one of {"|".join(AMP_CHOICES)}, not {str(amp)[:40]!r}')
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise UserError(f'threads must be a positive integer or None, not {str(threads)[:40]!r}')
        decoding = check_decoding(decoding)
        path = regular_file(path or DEFAULT_MODEL, 'model file')
        if path.suffix.lower() == '.onnx':
            onnx = OnnxModel(path, threads=threads)
            return cls(onnx, onnx.config, check_characters(''.join(onnx.characters), str(path)), onnx.PAD,
                       decoding, model_decoding=onnx.decoding, source=str(path))
        options = options if options is not None else model_namespace(**model_options)
        options.saved_model = str(path)
        device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
        checkpoint = load_checkpoint(path)
        config, characters = resolve_setup(options, checkpoint)
        model = Model(config)
        load_weights(model, checkpoint['model'], path)
        # channels-last convolutions: 1.15-1.3x the inference speed on CPU (oneDNN), identical outputs
        model = model.to(device).eval().to(memory_format=torch.channels_last)
        PAD = bool(getattr(options, 'PAD', False) or checkpoint.get('PAD', False))
        return cls(model, config, characters, PAD, decoding, resolve_precision(amp, device),
                   model_decoding=checkpoint.get('decoding'), source=str(path))

    @property
    def rgb(self):
        return self.config.input_channel == 3

    def collate(self):
        """The resize-and-normalise a batch of (PIL image, anything) pairs needs for this model."""
        return AlignCollate(self.config.imgH, self.config.imgW, self.PAD)

    @torch.inference_mode()
    def read_batch(self, images):
        """images: batch x channels x imgH x imgW in [-1, 1] (what collate() makes) -> (texts, confidences)."""
        if self.is_onnx:
            return self.head.decode_scores(self.network.scores(images), self.decoding)
        device = next(self.network.parameters()).device
        with self.precision.autocast():
            return self.head.read(self.network, images.to(device), self.decoding)

    def read(self, images, batch_size=64):
        """images: one or a list of file paths, PIL images or numpy arrays (H x W grey, H x W x 3 RGB or
        H x W x 4 RGBA, uint8) -> a Reading (or a list of them, in order)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UserError(f'batch_size must be a positive integer, not {str(batch_size)[:40]!r}')
        single = not isinstance(images, (list, tuple))
        pictures = [self._picture(image) for image in ([images] if single else images)]
        collate, readings = self.collate(), []
        for start in range(0, len(pictures), batch_size):
            batch, _ = collate([(picture, None) for picture in pictures[start:start + batch_size]])
            texts, confidences = self.read_batch(batch)
            readings += [Reading(text, float(confidence)) for text, confidence in zip(texts, confidences)]
        return readings[0] if single else readings

    def read_photo(self, image, split='auto', detector=None):
        """A whole photograph (a file path, PIL image or numpy array) -> its texts in reading order, each a
        photo_reading.PhotoText (text, confidence, points: 4 [x, y] corners in the photo). split: auto|words|
        lines (photo_reading.read_photo). detector: a detection.TextDetector (default: the bundled one,
        loaded once)."""
        if detector is None:
            self.detector = self.detector or TextDetector()
            detector = self.detector
        return read_photo(self, detector, self._picture(image, rgb=True), split)

    def _picture(self, image, rgb=None):
        rgb = self.rgb if rgb is None else rgb
        if isinstance(image, (str, Path)):
            picture = open_image(read_bytes(image, 'image'), rgb)  # a FIFO or a device is refused, not waited on
            if picture is None:
                raise UserError(f'cannot read image {image}')
            return picture
        try:
            if isinstance(image, np.ndarray):
                return from_array(image, rgb)
            if isinstance(image, Image.Image) and image.width and image.height:
                return flatten(image, rgb)
        except (ValueError, TypeError) as error:
            raise UserError(f'cannot read this image: {error}') from None
        raise UserError(f'cannot read a {type(image).__name__}: give a file path, a PIL image or a numpy array '
                        '(of non-zero size)')
