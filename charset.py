"""The character set: its file format, NFC and the case rule. Every label and every charset passes through
here, so what a model can emit and what a label asks of it are decided in one place."""
import string
import unicodedata

from safe_files import read_bytes
from utils import REPO_DIR, UNSAFE_CATEGORIES, UserError

DEFAULT_CHARACTER_FILE = REPO_DIR / 'korean_charset.txt'
ASCII_PRINTABLE = string.printable[:-6]  # dtrb's --sensitive set: digits, letters, punctuation


def nfc(text):
    """Korean typed on macOS arrives as decomposed jamo (NFD); compose it so it matches the charset."""
    return unicodedata.normalize('NFC', text)




def first_control_character(text):
    """The first character of text that breaks a line or a column (tab, newline, NUL, U+2028 ...), or None."""
    return next((c for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES), None)


def has_control_character(text):
    return first_control_character(text) is not None


def check_characters(characters, source):
    """characters (a charset as stored in a model file) as a list, or a one-line UserError naming `source`:
    a charset is a non-empty string without control characters (a class holding a tab or a newline
    would break every log row it is printed in) and without a character twice."""
    if not isinstance(characters, str) or not characters:
        raise UserError(f'{source}: its charset must be a non-empty string, not {str(characters)[:40]!r}')
    bad = first_control_character(characters)
    if bad is not None:
        raise UserError(f'{source}: its charset holds the control character {bad!r}')
    if len(set(characters)) != len(characters):
        twice = next(c for i, c in enumerate(characters) if c in characters[:i])
        raise UserError(f'{source}: its charset holds {twice!r} twice (two classes for one character)')
    return list(characters)


def read_character_file(path):
    """Characters of a charset file: one per line (a line holding only spaces is the space).

    A line with several characters contributes each of them, so dtrb-style one-line files work too. A
    line holding a control character (a tab, say) is a one-line error: no class may hold one.
    """
    raw = read_bytes(path, 'character file')
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError:
        raise UserError(f'character file {path} is not UTF-8') from None
    characters = []
    for number, line in enumerate(text.split('\n'), 1):
        line = nfc(line.removesuffix('\r'))
        bad = first_control_character(line)
        if bad is not None:
            raise UserError(f'character file {path} line {number} holds the control character {bad!r}: '
                            'one character per line, a line of spaces for the space')
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
    if character is not None:
        if has_control_character(character):
            raise UserError(f'--character holds the control character {first_control_character(character)!r}')
        characters = dedupe(nfc(character))
    else:
        characters = read_character_file(DEFAULT_CHARACTER_FILE if character_file is None else character_file)
    if sensitive:
        characters = dedupe(characters + list(ASCII_PRINTABLE))
    if not characters:
        raise UserError('the character set is empty' + (': --character is empty' if character == '' else ''))
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
