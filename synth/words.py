"""Text to render: real Korean words and the strings signs carry.

Sources: Debian's hunspell-ko dictionary (about 100,000 words stored as decomposed jamo, NFC-composed
here) for stems, PyPI's wordfreq Korean list for frequent forms and the inflected syllables hunspell
lacks, random syllable strings so every charset syllable appears, and sign-like strings (phone
numbers, prices, Latin brand names, hours).
"""
import random
import string
from pathlib import Path

from utils import UserError, nfc

HUNSPELL_DIC = Path('/usr/share/hunspell/ko.dic')
SIGN_SUFFIXES = ['식당', '마트', '약국', '병원', '미용실', '학원', '카페', '치킨', '분식', '부동산', '세탁소', '안경',
                 '편의점', '노래방', '정육점', '빵집', '떡집', '의원', '치과', '한의원', '은행', '주유소', '꽃집', '서점']
SIGN_WORDS = ['영업중', '24시', '할인', '세일', '신장개업', '주차장', '임대', '문의', '배달', '포장', '무료', '출입금지',
              '화장실', '비상구', '금연', '당기세요', '미세요', 'open', 'OPEN', 'SALE', 'Cafe', 'PC방', 'TEL']
LATIN_WORDS = ['CAFE', 'Coffee', 'Bakery', 'HAIR', 'Beauty', 'Mart', 'Pizza', 'Chicken', 'Studio', 'Shop', 'GS25',
               'CU', 'KB', 'SK', 'LG', 'Samsung', 'Olive', 'Young', 'Daiso', 'Nail', 'Bar', 'Pub', 'Fitness', 'Gym']


def is_hangul_syllable(char):
    return '\uac00' <= char <= '\ud7a3'


def hunspell_words(path=HUNSPELL_DIC):
    """NFC words of the hunspell-ko dictionary ('word/flags' lines); empty when it is not installed."""
    if not Path(path).exists():
        return []
    words = []
    for line in Path(path).read_text(encoding='utf-8', errors='replace').splitlines()[1:]:
        word = nfc(line.split('/', 1)[0].strip())
        if word and any(is_hangul_syllable(c) for c in word):
            words.append(word)
    return words


def wordfreq_words(count=30000):
    try:
        from wordfreq import top_n_list
    except ImportError:
        return []
    return [nfc(w) for w in top_n_list('ko', count) if any(is_hangul_syllable(c) for c in w)]


def default_words():
    """hunspell-ko + wordfreq, the word source when no --word_list is given."""
    return hunspell_words() + wordfreq_words()


def read_word_list(path):
    """Words of a UTF-8 file, one per line (NFC, blank lines skipped)."""
    try:
        lines = Path(path).read_text(encoding='utf-8-sig').splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f'cannot read word list {path}: {error}') from None
    words = [nfc(line.strip()) for line in lines if line.strip()]
    if not words:
        raise UserError(f'word list {path} holds no word')
    return words


def write_word_list(path):
    """Saves default_words() for a machine without hunspell-ko or wordfreq: synth_aihub.py --word_list."""
    words = list(dict.fromkeys(default_words()))
    Path(path).write_text(''.join(w + '\n' for w in words), encoding='utf-8')
    return len(words)


class TextSampler:
    """Draws label texts whose every character is in `characters`; deterministic for a given rng."""

    def __init__(self, characters, max_length=25, words=None):
        self.charset = set(characters)
        self.max_length = max_length
        self.syllables = sorted(c for c in self.charset if is_hangul_syllable(c))
        source = words if words is not None else default_words()
        self.words = sorted({w for w in source if set(w) <= self.charset and len(w) <= 10})
        if not self.words:
            self.words = list(self.syllables)
        self.digits = [c for c in string.digits if c in self.charset]
        self.latin = [w for w in LATIN_WORDS if set(w) <= self.charset]

    def word(self, rng):
        return rng.choice(self.words)

    def random_syllables(self, rng, low=1, high=6):
        return ''.join(rng.choice(self.syllables) for _ in range(rng.randint(low, high)))

    def number_string(self, rng):
        kind = rng.random()
        if kind < 0.3:
            return f'0{rng.choice([2, 31, 32, 51, 53, 10])}-{rng.randint(100, 9999)}-{rng.randint(1000, 9999)}'
        if kind < 0.6:
            return f'{rng.randint(1, 99) * 500:,}원'
        if kind < 0.8:
            return f'{rng.randint(1, 12)}:{rng.choice(["00", "30"])}~{rng.randint(13, 23)}:{rng.choice(["00", "30"])}'
        return str(rng.randint(0, 99999))

    def sign_string(self, rng):
        kind = rng.random()
        if kind < 0.4:
            return self.word(rng)[:4] + rng.choice(SIGN_SUFFIXES)
        if kind < 0.7:
            return rng.choice(SIGN_WORDS)
        if kind < 0.85 and self.latin:
            return rng.choice(self.latin) + (rng.choice(['', ' ']) + self.word(rng)[:3] if rng.random() < 0.5 else '')
        return self.word(rng) + ' ' + rng.choice(SIGN_SUFFIXES)

    def sample(self, rng=random, accept=None):
        """One text; `accept` (e.g. a font's can_draw) rejects texts that cannot be rendered truthfully."""
        for _ in range(50):
            kind = rng.random()
            if kind < 0.45:
                text = self.word(rng)
            elif kind < 0.62:
                text = self.random_syllables(rng)
            elif kind < 0.72:
                text = ' '.join(self.word(rng) for _ in range(rng.randint(2, 3)))
            elif kind < 0.84:
                text = self.sign_string(rng)
            elif kind < 0.94:
                text = self.number_string(rng)
            else:
                text = self.word(rng) + str(rng.randint(1, 999))
            text = text[:self.max_length].strip()
            if text and set(text) <= self.charset | {' '} and (accept is None or accept(text)):
                return text
        return rng.choice(self.syllables)


if __name__ == '__main__':
    import sys
    if len(sys.argv) != 2:
        sys.exit('usage: python3 -m synth.words WORDS.txt   (writes hunspell-ko + wordfreq words, one per line)')
    print(f'{write_word_list(sys.argv[1])} words written to {sys.argv[1]}')
