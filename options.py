"""The model and charset options of a run: dtrb's flags, and their resolution against a checkpoint's own
options (checkpoint first, then flags, then ModelConfig's defaults)."""
import argparse

from charset import DEFAULT_CHARACTER_FILE, check_characters, load_charset
from cli import checked
from heads import HEADS
from model import SIZES, STAGE_CHOICES, ModelConfig, check_options, size_is_valid, size_requirement
from utils import UserError

DEFAULTS = ModelConfig.defaults()


def add_model_arguments(parser):
    """dtrb's model and charset flags. They default to None so a checkpoint's own options can fill them."""
    group = parser.add_argument_group('model (taken from a kocrnn checkpoint when not given)')
    for stage, choices in STAGE_CHOICES.items():
        group.add_argument(f'--{stage}', choices=choices, default=None,
                           help=f'{"|".join(choices)} (default {DEFAULTS[stage]})')
    for name in SIZES:  # model.SIZES: the same rule a model file's stored config is held to
        kind = checked(int, lambda value, name=name: size_is_valid(name, value), size_requirement(name))
        group.add_argument(f'--{name}', type=kind, default=None, help=f'{size_requirement(name)}; default {DEFAULTS[name]}')
    group.add_argument('--rgb', action='store_true', help='use 3-channel input (sets --input_channel 3)')
    group.add_argument('--PAD', action='store_true', help='keep the aspect ratio and pad on resize')
    charset = parser.add_argument_group('character set')
    charset.add_argument('--character_file', default=None,
                         help=f'one character per line (default {DEFAULT_CHARACTER_FILE.name})')
    charset.add_argument('--character', default=None, help="dtrb's charset string; overrides --character_file")
    charset.add_argument('--sensitive', action='store_true',
                         help='case-sensitive: adds upper- and lower-case ASCII to the charset')
    return parser


# What --FT may change in a stored config: a new prediction head, or the input geometry and label length
# (no learnt weight's shape depends on them: the network reads any size; TPS's grid is computed anew).
FINETUNE_MAY_CHANGE = ('Prediction', 'imgH', 'imgW', 'batch_max_length')


def resolve_setup(opt, checkpoint=None, finetune=False):
    """(ModelConfig, characters) for a run: the checkpoint's own options first, then flags, then defaults.

    With a kocrnn checkpoint, a flag that contradicts it is an error unless finetune (--FT), where a new
    charset, prediction head or input geometry is the point. The checkpoint's stored config and charset are held to the
    rules the flags are (model.check_options, charset.check_characters): a model file is input too.
    """
    checkpoint = checkpoint or {}
    stored = checkpoint.get('config')
    try:
        check_options(stored or {})
    except ValueError as error:
        raise UserError(f'{opt.saved_model} holds a model config kocrnn cannot run: {error}') from None
    stored_characters = checkpoint.get('character')
    if stored_characters is not None:
        stored_characters = check_characters(stored_characters, opt.saved_model)
    explicit_charset = opt.character is not None or opt.character_file is not None or opt.sensitive
    if stored_characters and not (finetune and explicit_charset):
        characters = stored_characters
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
        if stored and stored.get(name) not in (None, value) and not (finetune and name in FINETUNE_MAY_CHANGE):
            raise UserError(f'--{name} {value} contradicts {opt.saved_model}, which was trained with '
                            f'{name}={stored[name]}; drop the flag')
        options[name] = value
    try:
        check_options(options)  # a Python caller's keyword options are held to the flags' rules too
        return ModelConfig(num_class=HEADS[options['Prediction']].num_class(characters), **options), characters
    except ValueError as error:
        raise UserError(f'model options: {error}') from None


def model_namespace(**given):
    """The model flags as argparse would give them with none on the command line, updated by `given`
    (for Python callers: Recognizer.load(path, Transformation='TPS', ...))."""
    namespace = add_model_arguments(argparse.ArgumentParser()).parse_args([])
    unknown = sorted(set(given) - set(vars(namespace)))
    if unknown:
        raise TypeError(f'unknown model option(s) {", ".join(unknown)}; known: {", ".join(sorted(vars(namespace)))}')
    vars(namespace).update(given)
    return namespace
