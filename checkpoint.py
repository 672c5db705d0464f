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
import math
import pickle
import re
from pathlib import Path

import torch

from optimization import DEFAULT as OPTIMIZER_DEFAULT_OPTIONS
from utils import UserError, atomic_write_bytes

FORMAT = 'kocrnn-1'
OPTIMIZER_DEFAULTS = OPTIMIZER_DEFAULT_OPTIONS.to_dict()


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
        check_stored_keys(data, path)
        data['model'] = strip_module_prefix(data['model'])
        return data
    if isinstance(data, dict) and data and all(torch.is_tensor(v) for v in data.values()):
        return {'model': strip_module_prefix(data)}
    raise UserError(f'{path} is neither a kocrnn checkpoint nor a model state_dict')


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_state_dict(value):
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and torch.is_tensor(v)
                                                            for k, v in value.items())


def _is_optimizer_state(value):
    return (isinstance(value, dict) and isinstance(value.get('state'), dict)
            and isinstance(value.get('param_groups'), list)
            and all(isinstance(group, dict) and isinstance(group.get('params'), list) for group in value['param_groups']))


def _is_option_dict(value):
    """{name: a bool, finite number, string or None}: what optimizer_options and args hold."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, (bool, str)) or _is_number(v)) for k, v in value.items())


# What each key of a kocrnn checkpoint must be (a model file is input: it is checked on load, never
# trusted). 'config', 'character' and 'decoding' are checked further where their rules live
# (model.check_options, charset.check_characters, decoding.decoding_from_spec).
KEY_RULES = {
    'model': (_is_state_dict, 'a state_dict of named tensors'),
    'config': (lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v), 'a mapping of model options'),
    'character': (lambda v: isinstance(v, str), 'a string'),
    'PAD': (lambda v: isinstance(v, bool), 'true or false'),
    'decoding': (lambda v: v is None or isinstance(v, dict), 'a decoding spec (a mapping) or none'),
    'iteration': (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, 'an iteration count'),
    'best_accuracy': (_is_number, 'a finite number'),
    'best_norm_ED': (_is_number, 'a finite number'),
    'optimizer': (_is_optimizer_state, "an optimizer state_dict ('state' and 'param_groups')"),
    'scheduler': (lambda v: v is None or isinstance(v, dict), 'a scheduler state_dict'),
    'optimizer_options': (_is_option_dict, 'a mapping of optimizer options'),
    'args': (lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v), "a mapping of the run's options"),
}


def check_stored_keys(data, path):
    """A one-line UserError for a kocrnn checkpoint key that is not what the format says it is."""
    for key, (accept, requirement) in KEY_RULES.items():
        if (key in data or key == 'model') and not accept(data.get(key)):
            found = data.get(key)
            raise UserError(f'{path} is a damaged or hostile kocrnn checkpoint: its {key!r} must be {requirement}, '
                            f'not {type(found).__name__} {str(found)[:40]!r}')
    for key in ('optimizer_options', 'args'):  # a resume takes its optimizer's options from one of them
        for name, value in (data.get(key) or {}).items():
            default = OPTIMIZER_DEFAULTS.get(name)
            fits = (type(value) is type(default) if isinstance(default, (bool, str)) else _is_number(value)
                    and (isinstance(default, float) or isinstance(value, int)) and value >= 0)
            if name in OPTIMIZER_DEFAULTS and not fits:
                raise UserError(f'{path}: its {key} {name} must be a {type(default).__name__}, '
                                f'not {str(value)[:40]!r}')


def load_optimizer_state(optimizer, state, path):
    """optimizer.load_state_dict(state), or a one-line UserError when the state belongs to another model."""
    try:
        optimizer.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as error:
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise UserError(f'{path}: its optimizer state does not fit this model ({reason}); use --FT to start '
                        'a new run from its weights') from None


RUN_FOLDER_FILES = ('opt.txt', 'log_train.txt')  # what train.py writes first into every run folder


def is_run_folder(folder):
    """True when `folder` is one train.py made (so a resume may continue in it); a folder the user keeps
    models in (pretrained_models/, a download folder) is not."""
    return all((Path(folder) / name).is_file() for name in RUN_FOLDER_FILES)


def make_checkpoint(model, config, characters, PAD=False, **training_state):
    """PAD (keep-ratio resize) is not part of the network but must match at inference, so it travels too."""
    model = model.module if hasattr(model, 'module') else model
    weights = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}  # as dtrb's are
    return {'format': FORMAT, 'model': weights, 'config': config.to_dict(),
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


def carry_over_classes(state_dict, model, class_axes, old_classes, new_classes):
    """--FT to another charset with the same head: the class rows (or columns) of `state_dict` that both
    charsets hold, moved to where the new charset puts them; the new classes keep `model`'s fresh values.
    class_axes: {key: axis} of the head's tensors over the classes (their last len(classes) entries).
    Returns (state_dict with those tensors re-laid, how many classes were carried over)."""
    old_index = {name: i for i, name in enumerate(old_classes)}
    pairs = [(j, old_index[name]) for j, name in enumerate(new_classes) if name in old_index]
    own, adapted = model.state_dict(), dict(state_dict)
    new_rows = torch.tensor([j for j, _ in pairs], dtype=torch.long)
    old_rows = torch.tensor([i for _, i in pairs], dtype=torch.long)
    for key, axis in class_axes.items():
        old, fresh = state_dict.get(key), own.get(key)
        if old is None or fresh is None or old.dim() != fresh.dim() or old.dim() <= axis:
            continue
        rest_old, rest_new = old.shape[axis] - len(old_classes), fresh.shape[axis] - len(new_classes)
        other_axes_fit = all(old.shape[d] == fresh.shape[d] for d in range(old.dim()) if d != axis)
        if rest_old != rest_new or rest_old < 0 or not other_axes_fit:
            continue  # not the layout this head names: left to load_weights (re-initialised)
        tensor = fresh.clone()
        tensor.narrow(axis, 0, rest_old).copy_(old.narrow(axis, 0, rest_old))
        tensor.index_copy_(axis, new_rows + rest_new, old.index_select(axis, old_rows + rest_old).to(tensor.dtype))
        adapted[key] = tensor
    return adapted, len(pairs)


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
