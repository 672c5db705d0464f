"""Strip a training checkpoint to what inference needs: weights, charset, model options, resize mode.

    python3 scripts/export_pretrained.py saved_models/<run>/best_accuracy.pth pretrained_models/kocrnn.pth

--half stores the floating-point weights as float16 (half the file; they are widened back to float32
when loaded, which changes the logits by ~1e-3 and no greedy decision we have seen).

--average A.pth B.pth ... stores the mean of these weights and those of A, B, ... (the same model and
charset), for snapshots taken along the end of one run (copies of last.pth every few minutes; Polyak
averaging smooths out where the last steps happened to land). On the photo model's round 3 the mean of
its last four 5-minute snapshots read level with the last one (greedy: held-out 91.36 % against 91.44 %,
real_dev 78.75 % both); a fine-tuned model and its start averaged badly (real_dev 66.25 % against
80.00 %): measure before shipping.

--decoding beam:8:default:2 names the decoding demo.py and test.py read this model with when no decoding
flag is given (checkpoint key 'decoding'; `greedy`, `beam:N`, `beam:N:default:WEIGHT`); the shipped word
list is the only one a model file can name.

--train_state keeps everything train.py needs to resume (optimizer, options, iteration) and stores
Adam's moment estimates as bfloat16: a third smaller file; the optimizer widens them back on resume.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checkpoint import FORMAT, atomic_save, load_checkpoint  # noqa: E402
from cli import ArgumentParser  # noqa: E402
from decoding import decoding_from_spec, parse_decoding_spec, portable_spec  # noqa: E402
from safe_files import check_output_file  # noqa: E402
from utils import UserError, run_main, setup_logging  # noqa: E402

KEEP = ('config', 'character', 'PAD', 'decoding', 'iteration', 'best_accuracy', 'best_norm_ED')


def compact_optimizer_state(state_dict):
    state = {index: {name: value.bfloat16() if value.is_floating_point() and name != 'step' else value
                     for name, value in param_state.items()}
             for index, param_state in state_dict['state'].items()}
    return {**state_dict, 'state': state}


def average(checkpoint, paths):
    """The mean of the float weights of checkpoint and those at paths; other tensors (counters) from checkpoint."""
    total = {k: v.float() for k, v in checkpoint['model'].items() if v.is_floating_point()}
    for path in paths:
        other = load_checkpoint(path)
        if (other.get('config') != checkpoint.get('config') or other.get('character') != checkpoint.get('character')
                or any(other['model'].get(k) is None or other['model'][k].shape != v.shape for k, v in total.items())):
            raise UserError(f'--average: {path} is not of the same model options and charset')
        for key in total:
            total[key] += other['model'][key].float()
    return {k: total[k] / (1 + len(paths)) if k in total else v for k, v in checkpoint['model'].items()}


def is_checkpoint(path):
    """True when `path` is a kocrnn or dtrb checkpoint (an earlier export, so it may be replaced)."""
    try:
        load_checkpoint(path)
    except UserError:
        return False
    return True


def main():
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint')
    parser.add_argument('output')
    parser.add_argument('--half', action='store_true', help='store float weights as float16')
    parser.add_argument('--average', nargs='+', default=[], metavar='CHECKPOINT',
                        help='more checkpoints of the same run to average the weights with')
    parser.add_argument('--decoding', default=None, metavar='SPEC',
                        help='the decoding this model is read with by default: greedy, beam:N or beam:N:default:W')
    parser.add_argument('--train_state', action='store_true',
                        help='keep the optimizer state (moments as bfloat16) to resume training from')
    opt = parser.parse_args()
    log = setup_logging()
    check_output_file(opt.output, [opt.checkpoint, *opt.average], 'output', 'kocrnn checkpoint', is_own=is_checkpoint)
    checkpoint = load_checkpoint(opt.checkpoint)
    weights = checkpoint['model']
    if opt.average:
        weights = average(checkpoint, opt.average)
    if opt.half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    if opt.train_state and 'optimizer' not in checkpoint:
        raise UserError(f'--train_state: {opt.checkpoint} holds no optimizer state (it is not a training checkpoint)')
    if opt.train_state:
        shipped = {**checkpoint, 'model': weights, 'optimizer': compact_optimizer_state(checkpoint['optimizer'])}
    else:
        shipped = {'format': FORMAT, 'model': weights, **{k: checkpoint[k] for k in KEEP if k in checkpoint}}
    if opt.decoding:
        shipped['decoding'] = portable_spec(parse_decoding_spec(opt.decoding))
        decoding_from_spec(shipped['decoding'], opt.output)  # it must be readable where it is loaded
    atomic_save(shipped, opt.output)
    log.info('%s: %.1f MB, iteration %s, validation accuracy %s, %s', opt.output,
             Path(opt.output).stat().st_size / 2**20, shipped.get('iteration'), shipped.get('best_accuracy'),
             decoding_from_spec(shipped.get('decoding'), opt.output))


if __name__ == '__main__':
    run_main(main)
