"""The checkpoint file format: writing it whole, reading it safely, and fitting its weights to a model.

A kocrnn checkpoint is a plain dict that describes itself (nanoGPT's habit):
    {'format': 'kocrnn-1', 'model': state_dict, 'config': ModelConfig fields,
     'character': the charset string, 'PAD', optionally 'decoding' (the decoding spec demo.py and
     test.py read it with when no decoding flag is given: decoding.py), ... training state:
     'iteration', 'optimizer', 'scheduler', 'best_accuracy', 'best_norm_ED', 'optimizer_options'
     (optimization.OptimizerOptions fields), 'args'}
A bare state_dict written by dtrb's train.py (keys prefixed `module.`) is read as well; it carries no
options, so the model flags must describe it.
"""
import io
import pickle
import re
from pathlib import Path

import torch

from utils import UserError, atomic_write_bytes

FORMAT = 'kocrnn-1'


# ---------------------------------------------------------------- reading and writing

def atomic_save(obj, path):
    """torch.save, written whole or not at all (utils.atomic_write_bytes)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # serialised first: a full disk is then a plain OSError at write, not torch's
    atomic_write_bytes(buffer.getbuffer(), path)


def strip_module_prefix(state_dict):
    return {key[len('module.'):] if key.startswith('module.') else key: value for key, value in state_dict.items()}


def load_checkpoint(path):
    """A checkpoint as a dict with at least 'model'; kocrnn keys when the file has them.

    Only weights_only loading is done: a file that needs arbitrary unpickling can run code and is refused.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f'model file {path} does not exist')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r'Unsupported global: GLOBAL (\S+)', str(error))
        if found:
            raise UserError(f'{path} holds a {found.group(1)} object, not just weights; loading it would need '
                            'unsafe unpickling (a .pth can run code when unpickled), so it is refused') from None
        raise UserError(f'{path} is not a readable PyTorch checkpoint (unpickling failed)') from None
    except Exception as error:  # torch raises KeyError, RuntimeError, EOFError ... on torn or foreign files
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f'{path} is not a readable PyTorch checkpoint ({type(error).__name__}: {reason[:120]})') from None
    if isinstance(data, dict) and data.get('format') == FORMAT:
        data['model'] = strip_module_prefix(data['model'])
        return data
    if isinstance(data, dict) and data and all(torch.is_tensor(v) for v in data.values()):
        return {'model': strip_module_prefix(data)}
    raise UserError(f'{path} is neither a kocrnn checkpoint nor a model state_dict')


def make_checkpoint(model, config, characters, PAD=False, **training_state):
    """PAD (keep-ratio resize) is not part of the network but must match at inference, so it travels too."""
    model = model.module if hasattr(model, 'module') else model
    return {'format': FORMAT, 'model': model.state_dict(), 'config': config.to_dict(),
            'character': ''.join(characters), 'PAD': bool(PAD), **training_state}


def describe_shape_mismatch(state_dict, model, path):
    """One line naming the tensors whose sizes differ, with the likely cause."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    differing = [k for k in own if k in state_dict and own[k].shape != state_dict[k].shape]
    if differing:
        key = differing[-1]
        head = [k for k in differing if k.startswith('Prediction')]
        if head and len(head) == len(differing):
            key = head[-1]
            return (f'{path} was trained for {state_dict[key].shape[0]} classes but this charset gives '
                    f'{own[key].shape[0]} ({key}); use the charset it was trained with (--character_file) or '
                    f'--FT to fine-tune it to this charset')
        return (f'{path} does not fit these model options: {len(differing)} tensors differ, e.g. {key} is '
                f'{tuple(state_dict[key].shape)} in the file and {tuple(own[key].shape)} here; check '
                f'--output_channel/--hidden_size/--imgH/--imgW')
    stages = sorted({k.split('.')[0] for k in missing + unexpected})
    return (f'{path} was made with other stages than {model.config.name} '
            f'(keys differ in {", ".join(stages)}); set --Transformation/--FeatureExtraction/'
            f'--SequenceModeling/--Prediction to match it')


def load_weights(model, state_dict, path, finetune=False):
    """Load weights into model. With finetune, tensors that do not fit are left as initialised and
    their count is returned; otherwise any mismatch is a UserError."""
    own = model.state_dict()
    fits = {k: v for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
    if not finetune:
        if len(fits) != len(own) or len(fits) != len(state_dict):
            raise UserError(describe_shape_mismatch(state_dict, model, path))
        model.load_state_dict(fits)
        return 0
    model.load_state_dict(fits, strict=False)
    return len(own) - len(fits)
