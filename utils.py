"""Shared pieces every script imports: character sets, label converters, metrics, gt-file parsing.

Each fact lives here once: the charset loader, the gt-line parser, the metrics.
"""
import logging
import string
import sys
import unicodedata
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

REPO_DIR = Path(__file__).resolve().parent
DEFAULT_CHARACTER_FILE = REPO_DIR / 'korean_charset.txt'
ASCII_PRINTABLE = string.printable[:-6]  # dtrb's --sensitive set: digits, letters, punctuation


class UserError(Exception):
    """A problem with the user's input: reported as one line, never as a traceback."""


def run_main(main):
    """Run a script's main(); a UserError becomes one 'error:' line and exit status 2."""
    try:
        main()
    except UserError as error:
        logging.getLogger('kocrnn').error('error: %s', error)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def setup_logging(log_file=None, quiet=False):
    """One logger for console and (optionally) a log file, so nothing is written twice by hand.
    --quiet only quiets the console; the file keeps everything."""
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if quiet else logging.INFO)
    handlers = [console]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding='utf-8'))
    logging.basicConfig(level=logging.INFO, format='%(message)s', handlers=handlers, force=True)
    return logging.getLogger('kocrnn')


@contextmanager
def also_log_to(path):
    """Copy the kocrnn log into another file for the duration of a block (e.g. log_dataset.txt)."""
    handler = logging.FileHandler(path, encoding='utf-8')
    logger = logging.getLogger('kocrnn')
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


def nfc(text):
    """Korean typed on macOS arrives as decomposed jamo (NFD); compose it so it matches the charset."""
    return unicodedata.normalize('NFC', text)


def display_width(text):
    """Terminal columns: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in 'WF' else 1 for c in text)


def pad(text, width):
    """text padded with spaces to `width` terminal columns (str.ljust counts a Hangul syllable as one)."""
    return text + ' ' * max(0, width - display_width(text))


# ---------------------------------------------------------------- character sets

def read_character_file(path):
    """Characters of a charset file: one per line (a line holding only spaces is the space).

    A line with several characters contributes each of them, so dtrb-style one-line files work too.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f'cannot read character file {path}: {error.strerror}') from None
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise UserError(f'character file {path} is not UTF-8') from None
    characters = []
    for line in text.split('\n'):
        line = nfc(line.rstrip('\r'))
        if not line:
            continue
        characters.extend(' ' if line.strip() == '' else line)
    return dedupe(characters)


def dedupe(characters):
    seen = set()
    return [c for c in characters if not (c in seen or seen.add(c))]


def load_charset(character=None, character_file=None, sensitive=False):
    """The character list for a run.

    dtrb's --character string wins when given; otherwise --character_file (default
    korean_charset.txt). --sensitive adds dtrb's printable ASCII to the set (dtrb replaced the
    whole set with it, losing Hangul).
    """
    if character:
        characters = dedupe(nfc(character))
    else:
        characters = read_character_file(character_file or DEFAULT_CHARACTER_FILE)
    if sensitive:
        characters = dedupe(characters + list(ASCII_PRINTABLE))
    if not characters:
        raise UserError('the character set is empty')
    return characters


def is_case_sensitive(characters):
    """A charset holding any upper-case Latin letter keeps case; otherwise labels are lower-cased."""
    return any(c in string.ascii_uppercase for c in characters)


class LabelNormalizer:
    """NFC-normalises a label, lower-cases it for case-insensitive charsets, and says what it can't encode."""

    def __init__(self, characters):
        self.charset = frozenset(characters)
        self.case_sensitive = is_case_sensitive(characters)

    def __call__(self, label):
        label = nfc(label)
        return label if self.case_sensitive else label.lower()

    def unknown_characters(self, label):
        return sorted(set(label) - self.charset)


# ---------------------------------------------------------------- label converters

class CTCLabelConverter:
    """Text <-> class indices for CTC; index 0 is the blank."""

    def __init__(self, characters):
        self.character = ['[CTCblank]'] + list(characters)
        self.dict = {char: i + 1 for i, char in enumerate(characters)}
        self._lookup = np.array(self.character, dtype=object)

    @property
    def num_class(self):
        return len(self.character)

    def encode(self, texts, batch_max_length=25):
        """Returns (batch x batch_max_length indices padded with 0, lengths). A text longer than the model
        can emit (only with --data_filtering_off) is cut for the loss; it still counts wrong in accuracy."""
        texts = [t[:batch_max_length] for t in texts]
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        batch_text = torch.zeros(len(texts), batch_max_length, dtype=torch.long)
        for i, text in enumerate(texts):
            indices = [self.dict[char] for char in text]
            batch_text[i, :len(indices)] = torch.tensor(indices, dtype=torch.long)
        return batch_text, lengths

    def decode_greedy(self, best_indices):
        """best_indices: batch x T argmax classes -> strings, repeats merged and blanks removed."""
        best_indices = best_indices.cpu().numpy()
        previous = np.concatenate([np.full((best_indices.shape[0], 1), -1), best_indices[:, :-1]], axis=1)
        keep = (best_indices != 0) & (best_indices != previous)
        return [''.join(self._lookup[row[mask]]) for row, mask in zip(best_indices, keep)]

    def decode(self, text_index, length=None):
        """dtrb's signature: text_index batch x T (or flat) of greedy indices."""
        if text_index.dim() == 1:
            text_index = text_index.view(len(length), -1)
        return self.decode_greedy(text_index)


class AttnLabelConverter:
    """Text <-> class indices for the attention decoder: [GO]=0 starts, [s]=1 ends a sequence."""

    def __init__(self, characters):
        self.character = ['[GO]', '[s]'] + list(characters)
        self.dict = {char: i for i, char in enumerate(self.character)}

    @property
    def num_class(self):
        return len(self.character)

    def encode(self, texts, batch_max_length=25):
        """Returns (batch x (batch_max_length + 2) indices: [GO] text [s] padding, lengths incl. [s]).
        Texts longer than batch_max_length are cut for the loss, as in the CTC converter."""
        texts = [t[:batch_max_length] for t in texts]
        lengths = torch.tensor([len(t) + 1 for t in texts], dtype=torch.long)
        batch_text = torch.zeros(len(texts), batch_max_length + 2, dtype=torch.long)
        for i, text in enumerate(texts):
            indices = [self.dict[char] for char in text] + [self.dict['[s]']]
            batch_text[i, 1:1 + len(indices)] = torch.tensor(indices, dtype=torch.long)
        return batch_text, lengths

    def decode_greedy(self, best_indices):
        texts = []
        for row in best_indices.cpu().tolist():
            chars = []
            for index in row:
                if index == 1:
                    break
                chars.append(self.character[index] if index > 1 else '')
            texts.append(''.join(chars))
        return texts

    def decode(self, text_index, length=None):
        return self.decode_greedy(text_index)


def make_converter(prediction, characters):
    return CTCLabelConverter(characters) if prediction == 'CTC' else AttnLabelConverter(characters)


def recognition_scores(model, images, prediction, batch_max_length):
    """The model's batch x T x class scores at inference (the attention decoder feeds back its argmax)."""
    if prediction == 'CTC':
        return model(images)
    go = torch.zeros(images.size(0), batch_max_length + 1, dtype=torch.long, device=images.device)
    return model(images, go, is_train=False)


class Averager:
    """Running mean of a tensor or float quantity (e.g. the loss)."""

    def __init__(self):
        self.reset()

    def add(self, value):
        """value: a float, or a tensor whose elements are each one observation."""
        if torch.is_tensor(value):
            self.n_count += value.numel()
            self.total = self.total + value.detach().float().sum()  # stays on the device: no sync per step
        else:
            self.n_count += 1
            self.total += float(value)

    def val(self):
        return float(self.total) / self.n_count if self.n_count else 0.0

    def reset(self):
        self.total = 0.0
        self.n_count = 0
