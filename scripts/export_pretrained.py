"""Strip a training checkpoint to what inference needs: weights, charset, model options, resize mode.

    python3 scripts/export_pretrained.py saved_models/<run>/best_accuracy.pth pretrained_models/kocrnn.pth

--half stores the floating-point weights as float16 (half the file; they are widened back to float32
when loaded, which changes the logits by ~1e-3 and no greedy decision we have seen).

--blend OTHER.pth --alpha A stores A x these weights + (1 - A) x OTHER's (the same model and charset):
a fine-tuned model averaged with the one it started from keeps more of what the start read well
(weight-space ensembling, as WiSE-FT does) while keeping most of what the fine-tuning added.

--train_state keeps everything train.py needs to resume (optimizer, options, iteration) and stores
Adam's moment estimates as bfloat16: a third smaller file; the optimizer widens them back on resume.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checkpoint import FORMAT, atomic_save, load_checkpoint  # noqa: E402
from cli import fraction  # noqa: E402
from utils import UserError, run_main, setup_logging  # noqa: E402

KEEP = ('config', 'character', 'PAD', 'iteration', 'best_accuracy', 'best_norm_ED')


def compact_optimizer_state(state_dict):
    state = {index: {name: value.bfloat16() if value.is_floating_point() and name != 'step' else value
                     for name, value in param_state.items()}
             for index, param_state in state_dict['state'].items()}
    return {**state_dict, 'state': state}


def blend(checkpoint, other, alpha):
    """alpha x checkpoint's float weights + (1 - alpha) x other's; other tensors from checkpoint."""
    if other.get('config') != checkpoint.get('config') or other.get('character') != checkpoint.get('character'):
        raise UserError('--blend needs a checkpoint of the same model options and charset')
    return {k: alpha * v.float() + (1 - alpha) * other['model'][k].float() if v.is_floating_point() else v
            for k, v in checkpoint['model'].items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint')
    parser.add_argument('output')
    parser.add_argument('--half', action='store_true', help='store float weights as float16')
    parser.add_argument('--blend', default=None, help='another checkpoint of the same model to average with')
    parser.add_argument('--alpha', type=fraction, default=0.5, help="the checkpoint's share in --blend")
    parser.add_argument('--train_state', action='store_true',
                        help='keep the optimizer state (moments as bfloat16) to resume training from')
    opt = parser.parse_args()
    log = setup_logging()
    checkpoint = load_checkpoint(opt.checkpoint)
    weights = checkpoint['model']
    if opt.blend:
        weights = blend(checkpoint, load_checkpoint(opt.blend), opt.alpha)
    if opt.half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    if opt.train_state:
        shipped = {**checkpoint, 'model': weights, 'optimizer': compact_optimizer_state(checkpoint['optimizer'])}
    else:
        shipped = {'format': FORMAT, 'model': weights, **{k: checkpoint[k] for k in KEEP if k in checkpoint}}
    atomic_save(shipped, opt.output)
    log.info('%s: %.1f MB, iteration %s, validation accuracy %s', opt.output, Path(opt.output).stat().st_size / 2**20,
             shipped.get('iteration'), shipped.get('best_accuracy'))


if __name__ == '__main__':
    run_main(main)
