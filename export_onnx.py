"""Export a trained checkpoint to ONNX, for ONNX Runtime (`demo.py --onnx`) or any other ONNX engine.

    python3 export_onnx.py --saved_model pretrained_models/kocrnn.pth --output kocrnn.onnx

Input `image`: batch x input_channel x imgH x imgW floats in [-1, 1] (the batch axis is dynamic);
output `scores`: batch x T x num_class. The charset, model options and resize mode travel in the
file's metadata (kocrnn.character, kocrnn.config, kocrnn.PAD), so the .onnx needs no .pth beside it.
Uses torch.export (dtrb's adaptive pooling defeats the older TorchScript exporter; kocrnn's model
averages over height instead, which both handle). Needs the onnx and onnxscript packages.
"""
import argparse
import json
import logging

import torch
import torch.nn as nn

from checkpoint import add_model_arguments, load_model
from cli import ArgumentParser, at_least, output_file
from onnx_recognizer import METADATA_PREFIX
from utils import UserError, recognition_scores, run_main, setup_logging



class Recognizer(nn.Module):
    """Images in, scores out: the attention decoder's [GO] input is made inside, so both heads take one input."""

    def __init__(self, model, config):
        super().__init__()
        self.model, self.config = model, config

    def forward(self, image):
        return recognition_scores(self.model, image, self.config.Prediction, self.config.batch_max_length)


def export(loaded, output, opset=18):
    config = loaded.config
    example = torch.rand(2, config.input_channel, config.imgH, config.imgW) * 2 - 1
    recognizer = Recognizer(loaded.model, config).eval()
    batch = torch.export.Dim('batch', min=1, max=4096)
    try:
        program = torch.onnx.export(recognizer, (example,), dynamo=True, input_names=['image'],
                                    output_names=['scores'], dynamic_shapes={'image': {0: batch}},
                                    opset_version=opset, verbose=False)
    except ImportError as error:
        raise UserError(f'ONNX export needs the onnx and onnxscript packages: pip install -r requirements.txt ({error})') from None
    program.optimize()
    metadata = {'character': ''.join(loaded.characters), 'config': json.dumps(config.to_dict()),
                'PAD': str(bool(loaded.PAD))}
    program.model.metadata_props.update({METADATA_PREFIX + key: value for key, value in metadata.items()})
    program.save(str(output))


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--saved_model', required=True, help='checkpoint to export')
    parser.add_argument('--output', type=output_file, required=True, help='.onnx file to write')
    parser.add_argument('--opset', type=at_least(18), default=18)
    add_model_arguments(parser)
    opt = parser.parse_args(argv)
    log = setup_logging()
    for noisy in ('torch.onnx', 'onnxscript', 'onnx_ir', 'torch._export', 'torch.export'):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    loaded = load_model(opt)
    export(loaded, opt.output, opt.opset)
    log.info('%s: %s exported to %s (dynamic batch, %d classes)', opt.saved_model, loaded.config.name,
             opt.output, loaded.config.num_class)


if __name__ == '__main__':
    run_main(main)
