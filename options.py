"""The model and charset options of a run: dtrb's flags, and their resolution against a checkpoint's own
options (checkpoint first, then flags, then ModelConfig's defaults)."""
import argparse

from charset import DEFAULT_CHARACTER_FILE, load_charset
from cli import at_least, positive_int
from heads import HEADS
from model import STAGE_CHOICES, ModelConfig
from utils import UserError

DEFAULTS = ModelConfig.defaults()


def add_model_arguments(parser):
    """dtrb's model and charset flags. They default to None so a checkpoint's own options can fill them."""
    group = parser.add_argument_group('model (taken from a kocrnn checkpoint when not given)')
    for stage, choices in STAGE_CHOICES.items():
        group.add_argument(f'--{stage}', choices=choices, default=None,
                           help=f'{"|".join(choices)} (default {DEFAULTS[stage]})')
    # the smallest sizes every stage can run: VGG, RCNN and ResNet pool the height down 16x, then a 2x2 conv
    sizes = {'num_fiducial': at_least(4), 'input_channel': at_least(1), 'output_channel': positive_int,
             'hidden_size': positive_int, 'imgH': at_least(32), 'imgW': at_least(16), 'batch_max_length': positive_int}
    for name, kind in sizes.items():
        group.add_argument(f'--{name}', type=kind, default=None, help=f'default {DEFAULTS[name]}')
    group.add_argument('--rgb', action='store_true', help='use 3-channel input (sets --input_channel 3)')
    group.add_argument('--PAD', action='store_true', help='keep the aspect ratio and pad on resize')
    charset = parser.add_argument_group('character set')
    charset.add_argument('--character_file', default=None,
                         help=f'one character per line (default {DEFAULT_CHARACTER_FILE.name})')
    charset.add_argument('--character', default=None, help="dtrb's charset string; overrides --character_file")
    charset.add_argument('--sensitive', action='store_true',
                         help='case-sensitive: adds upper- and lower-case ASCII to the charset')
    return parser


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

    options = ModelConfig.defaults()
    if stored:
        options.update({k: v for k, v in stored.items() if k in options})
    if getattr(opt, 'rgb', False):
        if stored and stored.get('input_channel') not in (None, 3):
            raise UserError(f'{opt.saved_model} was trained on grayscale input; drop --rgb')
        options['input_channel'] = 3
    for name in ModelConfig.defaults():
        value = getattr(opt, name, None)
        if value is None:
            continue
        if stored and stored.get(name) not in (None, value) and not (finetune and name == 'Prediction'):
            raise UserError(f'--{name} {value} contradicts {opt.saved_model}, which was trained with '
                            f'{name}={stored[name]}; drop the flag')
        options[name] = value
    num_class = HEADS[options['Prediction']].num_class(characters)
    return ModelConfig(num_class=num_class, **options), characters


def model_namespace(**given):
    """The model flags as argparse would give them with none on the command line, updated by `given`
    (for Python callers: Recognizer.load(path, Transformation='TPS', ...))."""
    namespace = add_model_arguments(argparse.ArgumentParser()).parse_args([])
    unknown = sorted(set(given) - set(vars(namespace)))
    if unknown:
        raise TypeError(f'unknown model option(s) {", ".join(unknown)}; known: {", ".join(sorted(vars(namespace)))}')
    vars(namespace).update(given)
    return namespace
