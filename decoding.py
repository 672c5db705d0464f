"""Decoding: from the network's scores (CTC frames or attention steps) to text and a confidence.

- greedy (dtrb's, and the default unless the model file names another): the best class of each frame or step.
- CTC prefix beam search (`--beam_size N`, N > 1): keeps the N most probable label prefixes, summing
  every frame alignment of each (blank and repeat rules), so a text whose probability is spread over
  several alignments can win over the single best path.
- attention beam search (`--beam_size N` on an Attn model): keeps the N most probable unfinished texts,
  running the decoder one step at a time (Attention.step) for each; a text ends at [s].
- a word list (`--lexicon words.txt`, with beam search): among the final N hypotheses, each whitespace-
  separated token found in the list adds `--lexicon_weight` to the hypothesis's log-probability. A token
  not in the list costs nothing, so numbers, prices, plates and brand names come out as read.

The confidence in test_log.txt is the chosen hypothesis's: dtrb's product of per-frame maxima for greedy
CTC, the hypothesis's own probability for beam search. Which function reads which scores is the head's
choice (heads.py); a new method is a function here, its flag, and the head's call of it.
"""
import math
import re
from argparse import ArgumentTypeError
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cli import checked, non_negative_float
from charset import nfc
from safe_files import regular_file
from utils import REPO_DIR, UserError

DEFAULT_LEXICON = REPO_DIR / 'pretrained_models' / 'lexicon.txt.gz'
MISSING_DEFAULT_LEXICON = f'{DEFAULT_LEXICON} is missing: python3 scripts/make_lexicon.py writes it'
NEG_INF = -math.inf
BLANK_ONLY = math.log(0.999)  # a frame this sure of blank extends no prefix: skipped for speed


@dataclass(frozen=True)
class Decoding:
    beam_size: int = 1
    lexicon: frozenset = frozenset()
    lexicon_weight: float = 0.0

    def __str__(self):
        if self.beam_size == 1:
            return 'greedy decoding'
        words = f', word list of {len(self.lexicon)} words (weight {self.lexicon_weight})' if self.lexicon else ''
        return f'beam search (beam {self.beam_size}{words})'


GREEDY = Decoding()
DEFAULT_LEXICON_WEIGHT = 2.0
# Beam search's work grows with the beam (CTC: beam x top candidates per frame; 512 took 70 s on 12
# crops); beyond 64 no measured text changed. The bound holds for flags, model files and the Python API.
MAX_BEAM_SIZE = 64
beam_size_type = checked(int, lambda v: 1 <= v <= MAX_BEAM_SIZE, f'from 1 to {MAX_BEAM_SIZE}')
lexicon_weight_type = non_negative_float


def _checked_value(kind, value, name):
    """value run through an argparse type (the flag's own rule), or a one-line UserError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is beam_size_type and
                                                                          not isinstance(value, int)):
        raise UserError(f'{name} must be a number {kind.__name__.split(" ", 1)[1]}, not {str(value)[:40]!r}')
    try:
        return kind(str(value))
    except ArgumentTypeError as error:
        raise UserError(f'{name}: {error}') from None


def make_decoding(beam_size=1, lexicon=None, lexicon_weight=None):
    """The Decoding of these settings (lexicon: a word-list file or `default`), with a one-line error
    for what cannot be done."""
    beam_size, weight = checked_settings(beam_size, lexicon, lexicon_weight)
    return Decoding(beam_size, read_lexicon(lexicon) if lexicon else frozenset(), weight)


def checked_settings(beam_size, lexicon, lexicon_weight):
    """(beam size, word-list weight) of these settings by the flags' rules, the word list not yet read;
    a one-line UserError for what cannot be done."""
    beam_size = _checked_value(beam_size_type, beam_size, 'beam size')
    if lexicon_weight is not None:
        lexicon_weight = _checked_value(lexicon_weight_type, lexicon_weight, 'word-list weight')
    if lexicon is not None and not isinstance(lexicon, (str, Path)):
        raise UserError(f'a word list is a file name or `default`, not {type(lexicon).__name__}')
    if lexicon and beam_size == 1:
        raise UserError('--lexicon rescores beam-search hypotheses: give --beam_size too (e.g. 8)')
    if lexicon_weight is not None and not lexicon:
        raise UserError('--lexicon_weight weighs the words of --lexicon: give --lexicon too')
    weight = DEFAULT_LEXICON_WEIGHT if lexicon_weight is None else lexicon_weight
    return beam_size, weight if lexicon else 0.0


# A model file may name the decoding it was measured with (checkpoint key 'decoding', ONNX metadata
# kocrnn.decoding): {'beam_size': N, 'lexicon': 'default' or None, 'lexicon_weight': W}. The shipped
# word list is the only one that travels with a model: a file path would not exist on another machine,
# and a model file that names one (a FIFO, /etc/passwd) is refused rather than read.
SPEC_KEYS = ('beam_size', 'lexicon', 'lexicon_weight')


def parse_decoding_spec(text):
    """greedy | beam:N | beam:N:LEXICON:WEIGHT -> a decoding spec dict (LEXICON a file or `default`)."""
    parts = str(text).split(':')
    try:
        if parts == ['greedy']:
            return {'beam_size': 1, 'lexicon': None, 'lexicon_weight': None}
        if parts[0] == 'beam' and len(parts) in (2, 4):
            spec = {'beam_size': beam_size_type(parts[1]), 'lexicon': None, 'lexicon_weight': None}
            if len(parts) == 4:
                spec.update(lexicon=parts[2], lexicon_weight=lexicon_weight_type(parts[3]))
            return spec
    except ArgumentTypeError:
        pass
    raise UserError(f'decoding {str(text)[:60]!r}: use greedy, beam:N (N from 1 to {MAX_BEAM_SIZE}) or '
                    'beam:N:LEXICON:WEIGHT (e.g. beam:8:default:2)')


def spec_flags(spec):
    """A decoding spec as demo.py / test.py flags."""
    flags = ['--beam_size', str(spec['beam_size'])]
    if spec.get('lexicon'):
        flags += ['--lexicon', str(spec['lexicon']), '--lexicon_weight', str(spec['lexicon_weight'])]
    return flags


def portable_spec(spec, source='a model file'):
    """spec checked for storing in (or reading from) a model file, by the flags' own rules: a mapping of
    beam_size, lexicon (none or `default`: the shipped word list is the only one a model file can name)
    and lexicon_weight. A one-line UserError names what is wrong."""
    if not isinstance(spec, dict) or set(spec) - set(SPEC_KEYS) or 'beam_size' not in spec:
        raise UserError(f'{source} names a decoding kocrnn cannot read ({str(spec)[:60]!r}): a decoding is '
                        f'{{"beam_size": N, "lexicon": null or "default", "lexicon_weight": W}}')
    if spec.get('lexicon') not in (None, 'default'):
        raise UserError(f'{source} names the word list {str(spec["lexicon"])[:60]!r}; a model file can name only '
                        'the shipped word list (`default`): give --lexicon to use another')
    beam_size, _ = checked_settings(spec['beam_size'], spec.get('lexicon'), spec.get('lexicon_weight'))
    if spec.get('lexicon') and not DEFAULT_LEXICON.is_file():
        raise UserError(MISSING_DEFAULT_LEXICON)
    return {'beam_size': beam_size, 'lexicon': spec.get('lexicon'),
            'lexicon_weight': None if spec.get('lexicon_weight') is None else float(spec['lexicon_weight'])}


def decoding_from_spec(spec, source):
    """The Decoding a model file names (None: greedy); a spec that cannot be read is a one-line error."""
    if spec is None:
        return GREEDY
    portable_spec(spec, source)
    return make_decoding(spec['beam_size'], spec.get('lexicon'), spec.get('lexicon_weight'))


def check_decoding(decoding):
    """A Decoding a Python caller made, held to the flags' rules (a one-line UserError), or a spec string
    (`greedy`, `beam:8`, `beam:8:default:2`) made into one; None stays None (the model's own)."""
    if decoding is None:
        return None
    if isinstance(decoding, str):
        spec = parse_decoding_spec(decoding)
        return make_decoding(spec['beam_size'], spec['lexicon'], spec['lexicon_weight'])
    if not isinstance(decoding, Decoding):
        raise UserError(f'decoding must be a decoding.Decoding, a spec such as beam:8, or None; not '
                        f'{type(decoding).__name__}')
    _checked_value(beam_size_type, decoding.beam_size, 'beam size')
    _checked_value(lexicon_weight_type, decoding.lexicon_weight, 'word-list weight')
    if not isinstance(decoding.lexicon, frozenset):
        raise UserError('a Decoding\'s lexicon is a frozenset of words (decoding.read_lexicon)')
    return decoding


def add_decoding_arguments(parser):
    group = parser.add_argument_group('decoding (default: the one the model file names, else greedy)')
    group.add_argument('--beam_size', type=beam_size_type, default=None,
                       help=f'1 = greedy; N > 1 (at most {MAX_BEAM_SIZE}) = beam search keeping N hypotheses')
    group.add_argument('--lexicon', default=None,
                       help='word list (one per line, plain or .gz), or `default` (the shipped hunspell-ko + wordfreq '
                            'Korean and English list): '
                            'with --beam_size, hypotheses whose words it holds gain --lexicon_weight per word')
    group.add_argument('--lexicon_weight', type=lexicon_weight_type, default=None,
                       help=f'log-probability added per word found in --lexicon (default {DEFAULT_LEXICON_WEIGHT})')


def decoding_from_args(opt):
    """The Decoding the flags ask for, or None when they name none (the model's own is then used)."""
    if opt.beam_size is None and opt.lexicon is None and opt.lexicon_weight is None:
        return None
    return make_decoding(opt.beam_size or 1, opt.lexicon, opt.lexicon_weight)


def read_lexicon(path):
    """The words of a word-list file (plain or .gz), or with `default` the shipped list
    (pretrained_models/lexicon.txt.gz: hunspell-ko and wordfreq's Korean and English words, made by
    scripts/make_lexicon.py), so a decoding gives the same text on every machine."""
    from synth.words import read_word_list  # the one home of word lists
    if str(path) == 'default':
        if not DEFAULT_LEXICON.is_file():
            raise UserError(MISSING_DEFAULT_LEXICON)
        path = DEFAULT_LEXICON
    regular_file(path, 'word list')  # a FIFO or a device is refused, never waited on
    return frozenset(token for word in read_word_list(path) for token in nfc(word).split())


def log_add(a, b):
    """log(exp(a) + exp(b)) of two Python floats (numpy's logaddexp costs a microsecond a call on scalars)."""
    if a < b:
        a, b = b, a
    return a if b == NEG_INF else a + math.log1p(math.exp(b - a))


def ctc_prefix_beam_search(log_probs, beam_size):
    """log_probs: T x C numpy (class 0 = blank) -> [(label indices tuple, log-probability)], best first."""
    beams = {(): (0.0, NEG_INF)}  # prefix -> (log P ending in blank, log P ending in its last label)
    top = min(beam_size, log_probs.shape[1] - 1)
    candidates_of_frames = (np.argpartition(log_probs[:, 1:], -top, axis=1)[:, -top:] + 1).tolist()
    by_probability = lambda item: log_add(*item[1])  # noqa: E731
    for frame, candidates in zip(log_probs, candidates_of_frames):
        blank = float(frame[0])
        if blank > BLANK_ONLY:  # extends no prefix: each one goes on through a blank or a repeat of its label
            beams = dict(sorted([
                (prefix, (log_add(p_blank, p_label) + blank, p_label + float(frame[prefix[-1]]) if prefix else NEG_INF))
                for prefix, (p_blank, p_label) in beams.items()], key=by_probability, reverse=True))
            continue
        frame = frame.tolist()  # Python floats: indexing a numpy row costs more than the arithmetic
        extended = {}

        def add(prefix, p_blank, p_label):
            old = extended.get(prefix)
            extended[prefix] = (p_blank, p_label) if old is None else \
                (log_add(old[0], p_blank), log_add(old[1], p_label))

        for prefix, (p_blank, p_label) in beams.items():
            total = log_add(p_blank, p_label)
            add(prefix, total + blank, NEG_INF)
            if prefix:  # the last label repeated without a blank between: the same prefix
                add(prefix, NEG_INF, p_label + frame[prefix[-1]])
            for label in candidates:
                if prefix and label == prefix[-1]:
                    add(prefix + (label,), NEG_INF, p_blank + frame[label])  # a new label needs a blank between
                else:
                    add(prefix + (label,), NEG_INF, total + frame[label])
        beams = dict(sorted(extended.items(), key=by_probability, reverse=True)[:beam_size])
    return [(prefix, log_add(*probs)) for prefix, probs in beams.items()]  # best first


WORD = re.compile(r'[가-힣]+|[A-Za-z]{3,}')  # one- and two-letter Latin runs match too easily to count


def lexicon_bonus(text, lexicon, weight):
    """weight per word of `text` (a run of Hangul syllables, or of three or more Latin letters) that the
    list holds."""
    return weight * sum(word in lexicon or word.lower() in lexicon for word in WORD.findall(text))


def choose(hypotheses, decoding):
    """The best (text, log-probability) of a beam: the most probable one, or with a word list, the
    best after each one's bonus. The word list only chooses between letters: among
    hypotheses that differ only in spaces the model's own probability decides (a bonus per word would
    otherwise pay for splitting a word into two that the list holds)."""
    best_spacing = {}
    for text, score in hypotheses:
        key = text.replace(' ', '')
        if key not in best_spacing or score > best_spacing[key][1]:
            best_spacing[key] = (text, score)
    return max(best_spacing.values(),
               key=lambda h: h[1] + lexicon_bonus(h[0], decoding.lexicon, decoding.lexicon_weight))


def ctc_greedy(scores, converter):
    """(texts, confidences): the best class of every frame, repeats merged and blanks dropped; the
    confidence as dtrb scores it, the product of every frame's best probability (blanks included)."""
    max_probs, best = torch.as_tensor(scores).float().softmax(2).max(2)
    return converter.decode_greedy(best), max_probs.log().sum(1).exp().tolist()


def ctc_beam_search(scores, converter, decoding):
    """(texts, confidences) of a batch of CTC scores by prefix beam search (and the word list)."""
    log_probs = torch.as_tensor(scores).float().log_softmax(2).cpu().numpy()
    texts, confidences = [], []
    for sample in log_probs:
        hypotheses = [(''.join(converter.character[i] for i in prefix), score)
                      for prefix, score in ctc_prefix_beam_search(sample, decoding.beam_size)]
        text, score = choose(hypotheses, decoding)
        texts.append(text)
        confidences.append(math.exp(score))
    return texts, confidences


def attention_greedy(scores, converter):
    """(texts, confidences) of attention scores decoded step by step: the product of the best
    probabilities of the steps up to and including [s]."""
    max_probs, best = torch.as_tensor(scores).float().softmax(2).max(2)
    texts = converter.decode_greedy(best)
    return texts, [float(row[:len(text) + 1].prod()) for text, row in zip(texts, max_probs)]


@torch.no_grad()
def attention_beam_search(model, images, converter, decoding, batch_max_length):
    """(texts, confidences) by beam search over the attention decoder's steps: each image keeps the
    `beam_size` most probable unfinished texts; a text ends when [s] is chosen. The confidence is the
    chosen text's probability (its steps' probabilities multiplied, [s] included), as greedy scores it."""
    prediction = model.Prediction
    encoded = model.encode(images)
    texts, confidences = [], []
    for states in encoded:
        hypotheses = attention_hypotheses(prediction, states[None], converter, decoding.beam_size, batch_max_length)
        text, score = choose(hypotheses, decoding)
        texts.append(text)
        confidences.append(math.exp(score))
    return texts, confidences


def attention_hypotheses(prediction, batch_H, converter, beam_size, batch_max_length):
    """[(text, log-probability)] of the texts that ended ([s]) within batch_max_length + 1 steps, or, when
    none did, of the unfinished ones."""
    hidden, projected = prediction.start(batch_H)
    alive = [((), 0.0)]  # (class indices so far, log-probability)
    previous = torch.full((1,), converter.GO, dtype=torch.long, device=batch_H.device)
    finished = []
    for _ in range(batch_max_length + 1):
        rows = len(alive)
        hidden, scores = prediction.step(hidden, batch_H.expand(rows, -1, -1), projected.expand(rows, -1, -1),
                                         previous)
        log_probs = scores.float().log_softmax(1)
        log_probs[:, converter.GO] = NEG_INF  # [GO] only starts a sequence
        totals = log_probs + torch.tensor([score for _, score in alive], device=log_probs.device)[:, None]
        best = torch.topk(totals.flatten(), min(beam_size, totals.numel()))
        keep = []
        for total, flat in zip(best.values.tolist(), best.indices.tolist()):
            row, label = divmod(flat, totals.size(1))
            if label == converter.END:
                finished.append((alive[row][0], total))
            else:
                keep.append((row, (alive[row][0] + (label,), total)))
        if not keep or (finished and max(s for _, s in finished) >= keep[0][1][1]):
            break  # every unfinished text is already less probable than a finished one, and can only fall
        rows = torch.tensor([row for row, _ in keep], device=batch_H.device)
        hidden = (hidden[0][rows], hidden[1][rows])
        alive = [hypothesis for _, hypothesis in keep]
        previous = torch.tensor([labels[-1] for labels, _ in alive], dtype=torch.long, device=batch_H.device)
    ended = finished or alive
    return [(converter.text_of(labels), score) for labels, score in ended]
