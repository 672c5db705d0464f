"""The character set: its file format, NFC and the case rule. Every label and every charset passes through
here, so what a model can emit and what a label asks of it are decided in one place."""
import string
import unicodedata
from pathlib import Path

from utils import REPO_DIR, UserError

DEFAULT_CHARACTER_FILE = REPO_DIR / 'korean_charset.txt'
ASCII_PRINTABLE = string.printable[:-6]  # dtrb's --sensitive set: digits, letters, punctuation


def nfc(text):
    """Korean typed on macOS arrives as decomposed jamo (NFD); compose it so it matches the charset."""
    return unicodedata.normalize('NFC', text)


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
