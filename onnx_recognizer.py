"""An export_onnx.py model in ONNX Runtime, with the charset and options read from its metadata."""
import json
import os

from heads import HEADS
from model import ModelConfig
from utils import UserError

METADATA_PREFIX = 'kocrnn.'


class OnnxModel:
    """An export_onnx.py graph: `config`, `characters`, `PAD` and `decoding` (the decoding spec the model
    names, or None) from its metadata, and scores(images). The Recognizer (recognizer.py) decodes them
    as it does a PyTorch model's."""

    def __init__(self, path, threads=None):
        try:
            import onnxruntime
        except ImportError:
            raise UserError('--onnx needs the onnxruntime package: pip install -r requirements.txt') from None
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
        except Exception as error:  # onnxruntime raises its own exception types for missing/corrupt files
            raise UserError(f'cannot load ONNX model {path}: {str(error).splitlines()[0]}') from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        if METADATA_PREFIX + 'config' not in metadata:
            raise UserError(f'{path} has no kocrnn metadata: export it with export_onnx.py')
        try:
            self.config = ModelConfig.from_dict(json.loads(metadata[METADATA_PREFIX + 'config']))
            self.characters = list(metadata[METADATA_PREFIX + 'character'])
            num_class = HEADS[self.config.Prediction].num_class(self.characters)
            self.decoding = json.loads(metadata.get(METADATA_PREFIX + 'decoding', 'null'))  # older exports: none
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UserError(f'{path} has broken kocrnn metadata ({type(error).__name__}: {error}): export it again '
                            'with export_onnx.py') from None
        self.PAD = metadata.get(METADATA_PREFIX + 'PAD') == 'True'
        outputs = self.session.get_outputs()[0].shape
        if isinstance(outputs[-1], int) and outputs[-1] != num_class:
            raise UserError(f'{path}: its metadata names {num_class} classes but the network '
                            f'outputs {outputs[-1]}: export it again with export_onnx.py')
        image_input = self.session.get_inputs()[0]
        expected = (self.config.input_channel, self.config.imgH, self.config.imgW)
        if any(isinstance(have, int) and have != want for have, want in zip(image_input.shape[1:], expected)):
            raise UserError(f'{path}: its metadata names images of {"x".join(map(str, expected))} (channels x '
                            f'height x width) but the network takes {"x".join(map(str, image_input.shape[1:]))}: '
                            'export it again with export_onnx.py')
        self.input_name = image_input.name

    def scores(self, images):
        try:
            return self.session.run(None, {self.input_name: images.numpy()})[0]
        except Exception as error:  # a graph whose dynamic axes disagree with its metadata fails only here
            raise UserError(f'the ONNX model cannot read these images: {str(error).splitlines()[0]}') from None
