"""Export a trained checkpoint to ONNX, for ONNX Runtime (`demo.py --onnx`) or any other ONNX engine.

    python3 export_onnx.py --saved_model pretrained_models/kocrnn.pth --output kocrnn.onnx

Input `image`: batch x input_channel x imgH x imgW floats in [-1, 1] (the batch axis is dynamic);
output `scores`: batch x T x num_class. The charset, model options and resize mode travel in the
file's metadata (kocrnn.character, kocrnn.config, kocrnn.PAD, and kocrnn.decoding: the decoding the
.pth names, if any), so the .onnx needs no .pth beside it.
Uses torch.export (dtrb's adaptive pooling defeats the older TorchScript exporter; kocrnn's model
averages over height instead, which both handle). Needs the onnx and onnxscript packages.
"""
import argparse
import json
import logging

import torch
import torch.nn as nn

from cli import ArgumentParser, at_least, output_file
from onnx_recognizer import METADATA_PREFIX
from options import add_model_arguments
from recognizer import Recognizer
from safe_files import check_output_file
from utils import UserError, run_main, setup_logging


class ScoresGraph(nn.Module):
    """Images in, scores out, as the head runs the network at inference (the attention decoder's [GO]
    input is made inside, so both heads take one input)."""

    def __init__(self, model, head):
        super().__init__()
        self.model, self.head = model, head

    def forward(self, image):
        return self.head.scores(self.model, image)


def export(reader, output, opset=18):
    config = reader.config
    example = torch.rand(2, config.input_channel, config.imgH, config.imgW) * 2 - 1
    recognizer = ScoresGraph(reader.network, reader.head).eval()
    batch = torch.export.Dim('batch', min=1, max=4096)
    try:
        program = torch.onnx.export(recognizer, (example,), dynamo=True, input_names=['image'],
                                    output_names=['scores'], dynamic_shapes={'image': {0: batch}},
                                    opset_version=opset, verbose=False)
    except ImportError as error:
        raise UserError(f'ONNX export needs the onnx and onnxscript packages: pip install -r requirements.txt ({error})') from None
    program.optimize()
    metadata = {'character': ''.join(reader.characters), 'config': json.dumps(config.to_dict()),
                'PAD': str(bool(reader.PAD)), 'decoding': json.dumps(reader.model_decoding)}
    program.model.metadata_props.update({METADATA_PREFIX + key: value for key, value in metadata.items()})
    program.save(str(output))


def is_kocrnn_onnx(path):
    """True when `path` is an ONNX model carrying kocrnn's metadata (an earlier export, so it may be replaced)."""
    try:
        import onnx
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # onnx raises DecodeError and others on a file that is not ONNX
        return False
    return any(prop.key == METADATA_PREFIX + 'config' for prop in model.metadata_props)


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
    check_output_file(opt.output, [opt.saved_model, opt.character_file], '--output', 'kocrnn ONNX model',
                      is_own=is_kocrnn_onnx)
    reader = Recognizer.load(opt.saved_model, options=opt, amp='off', device='cpu')
    export(reader, opt.output, opt.opset)
    log.info('%s: %s exported to %s (dynamic batch, %d classes)', opt.saved_model, reader.config.name,
             opt.output, reader.config.num_class)


if __name__ == '__main__':
    run_main(main)
