"""The checkpoint format, and the model/charset options every script shares.

A kocrnn checkpoint is a plain dict that describes itself (nanoGPT's habit):
    {'format': 'kocrnn-1', 'model': state_dict, 'config': ModelConfig fields,
     'character': the charset string, ... training state: 'iteration', 'optimizer', 'scheduler',
     'best_accuracy', 'best_norm_ED', 'args'}
A bare state_dict written by dtrb's train.py (keys prefixed `module.`) is read as well; it carries no
options, so the model flags must describe it.
"""
import io
import os
import pickle
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from cli import at_least, positive_int
from model import Model, ModelConfig, STAGE_CHOICES
from decoding import GREEDY, Decoding, predict
from utils import DEFAULT_CHARACTER_FILE, UserError, load_charset, make_converter

FORMAT = 'kocrnn-1'
DEFAULT_MODEL_OPTIONS = {'Transformation': 'TPS', 'FeatureExtraction': 'ResNet', 'SequenceModeling': 'BiLSTM',
                         'Prediction': 'CTC', 'num_fiducial': 20, 'input_channel': 1, 'output_channel': 512,
                         'hidden_size': 256, 'imgH': 32, 'imgW': 100, 'batch_max_length': 25}


def add_model_arguments(parser):
    """dtrb's model and charset flags. They default to None so a checkpoint's own options can fill them."""
    group = parser.add_argument_group('model (taken from a kocrnn checkpoint when not given)')
    for stage, choices in STAGE_CHOICES.items():
        group.add_argument(f'--{stage}', choices=choices, default=None,
                           help=f'{"|".join(choices)} (default {DEFAULT_MODEL_OPTIONS[stage]})')
    # the smallest sizes every stage can run: VGG, RCNN and ResNet pool the height down 16x, then a 2x2 conv
    sizes = {'num_fiducial': at_least(4), 'input_channel': at_least(1), 'output_channel': positive_int,
             'hidden_size': positive_int, 'imgH': at_least(32), 'imgW': at_least(16), 'batch_max_length': positive_int}
    for name, kind in sizes.items():
        group.add_argument(f'--{name}', type=kind, default=None, help=f'default {DEFAULT_MODEL_OPTIONS[name]}')
    group.add_argument('--rgb', action='store_true', help='use 3-channel input (sets --input_channel 3)')
    group.add_argument('--PAD', action='store_true', help='keep the aspect ratio and pad on resize')
    charset = parser.add_argument_group('character set')
    charset.add_argument('--character_file', default=None,
                         help=f'one character per line (default {DEFAULT_CHARACTER_FILE.name})')
    charset.add_argument('--character', default=None, help="dtrb's charset string; overrides --character_file")
    charset.add_argument('--sensitive', action='store_true',
                         help='case-sensitive: adds upper- and lower-case ASCII to the charset')
    return parser


# ---------------------------------------------------------------- reading and writing

def atomic_save(obj, path):
    """Write to a temp file in the same folder, fsync, rename: a kill mid-write never leaves a torn file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f'.{path.name}.', dir=path.parent)
    except OSError as error:
        raise UserError(f'cannot write {path}: {error.strerror}') from None
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # serialised first: a full disk is then a plain OSError at write, not torch's
    try:
        with os.fdopen(handle, 'wb') as temp:
            temp.write(buffer.getbuffer())
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; keep the usual permissions
        os.replace(temp_name, path)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):  # a full disk: the earlier file is still whole
            raise UserError(f'cannot write {path}: {error.strerror or error}; the previous {path.name} is kept') from None
        raise


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


# ---------------------------------------------------------------- options -> model

def resolve_setup(opt, checkpoint=None, finetune=False):
    """(ModelConfig, characters) for a run: the checkpoint's own options first, then flags, then defaults.

    With a kocrnn checkpoint, a flag that contradicts it is an error unless finetune (--FT), where a new
    charset or prediction head is the point.
    """
    stored = (checkpoint or {}).get('config')
    stored_characters = (checkpoint or {}).get('character')
    explicit_charset = opt.character or opt.character_file or opt.sensitive
    if stored_characters and not (finetune and explicit_charset):
        characters = list(stored_characters)
        if explicit_charset and load_charset(opt.character, opt.character_file, opt.sensitive) != characters:
            raise UserError(f'{opt.saved_model} was trained with its own {len(characters)}-character charset, '
                            'which differs from --character/--character_file; drop the flag, or add --FT to '
                            'fine-tune it to the new charset')
    else:
        characters = load_charset(opt.character, opt.character_file, opt.sensitive)

    options = dict(DEFAULT_MODEL_OPTIONS)
    if stored:
        options.update({k: v for k, v in stored.items() if k in options})
    if getattr(opt, 'rgb', False):
        if stored and stored.get('input_channel') not in (None, 3):
            raise UserError(f'{opt.saved_model} was trained on grayscale input; drop --rgb')
        options['input_channel'] = 3
    for name in DEFAULT_MODEL_OPTIONS:
        value = getattr(opt, name, None)
        if value is None:
            continue
        if stored and stored.get(name) not in (None, value) and not (finetune and name == 'Prediction'):
            raise UserError(f'--{name} {value} contradicts {opt.saved_model}, which was trained with '
                            f'{name}={stored[name]}; drop the flag')
        options[name] = value
    num_class = make_converter(options['Prediction'], characters).num_class
    return ModelConfig(num_class=num_class, **options), characters


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


@dataclass
class LoadedModel:
    model: Model
    converter: object
    config: ModelConfig
    characters: list
    PAD: bool
    decoding: Decoding = GREEDY

    def predict(self, images):
        """(texts, confidences) of a batch; the same call as OnnxRecognizer.predict."""
        device = next(self.model.parameters()).device
        return predict(self.model, self.converter, images.to(device), self.config.Prediction,
                       self.config.batch_max_length, self.decoding)


def load_model(opt, device='cpu'):
    """For test.py and demo.py: the checkpoint in --saved_model as an eval-mode Model with its
    converter, charset and resize mode."""
    checkpoint = load_checkpoint(opt.saved_model)
    config, characters = resolve_setup(opt, checkpoint)
    model = Model(config)
    load_weights(model, checkpoint['model'], opt.saved_model)
    # channels-last convolutions: 1.15-1.3x the inference speed on CPU (oneDNN), identical outputs
    model = model.to(device).eval().to(memory_format=torch.channels_last)
    return LoadedModel(model, make_converter(config.Prediction, characters), config, characters,
                       bool(opt.PAD or checkpoint.get('PAD', False)))
