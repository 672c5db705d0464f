"""Text to render: real Korean words and the strings signs carry.

Sources: Debian's hunspell-ko dictionary (about 100,000 words stored as decomposed jamo, NFC-composed
here) for stems, PyPI's wordfreq Korean list for frequent forms and the inflected syllables hunspell
lacks, wordfreq's English list (upper, lower and title case), random syllable strings so every charset
syllable appears, and the strings signs, menus, receipts and cards print: phone numbers, prices in
won, units, dates and times, romanised place names, licence plates, bracketed notes and hashtags.
"""
import gzip
import random
from pathlib import Path

from charset import nfc
from safe_files import read_bytes
from utils import UserError

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


def english_words(count=20000):
    """wordfreq's most frequent English words of two or more letters (one-letter and apostrophe forms
    are left to the phrase builder); empty when wordfreq is not installed."""
    try:
        from wordfreq import top_n_list
    except ImportError:
        return []
    return [w for w in top_n_list('en', count) if len(w) > 1 and w.isascii() and w.isalpha()]


def default_words():
    """hunspell-ko + wordfreq, the word source when no --word_list is given."""
    return hunspell_words() + wordfreq_words()


def lexicon_words():
    """The decoder's word list (decoding.py --lexicon default): every whitespace-separated token of
    hunspell-ko, wordfreq's Korean and its 50,000 most frequent English words, sorted and unique."""
    return sorted({token for word in default_words() + english_words(50000) for token in nfc(word).split()})


def read_word_list(path):
    """Words of a UTF-8 file (gzipped when its name ends in .gz), one per line (NFC, blank lines skipped)."""
    try:
        raw = read_bytes(path, 'word list')  # a FIFO or device is refused, never waited on
        raw = gzip.decompress(raw) if str(path).endswith('.gz') else raw
        lines = raw.decode('utf-8-sig').splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as error:
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


PLACE_NAMES = ['Seoul', 'Busan', 'Incheon', 'Daegu', 'Daejeon', 'Gwangju', 'Ulsan', 'Sejong', 'Suwon', 'Jeju',
               'Gangneung', 'Chuncheon', 'Jeonju', 'Pohang', 'Gyeongju', 'Changwon', 'Cheongju', 'Mokpo', 'Yeosu',
               'Gangnam', 'Jongno', 'Myeongdong', 'Hongdae', 'Itaewon', 'Yeouido', 'Jamsil', 'Mapo', 'Gimpo',
               'Pyeongyang', 'Kaesong', 'Paju', 'Ilsan', 'Bundang', 'Pangyo', 'Anyang', 'Uijeongbu', 'Gwanghwamun',
               'Dongdaemun', 'Namdaemun', 'Sinchon', 'Haeundae', 'Seogwipo', 'Andong', 'Sokcho', 'Tongyeong']
PLACE_NAMES_KO = ['서울', '부산', '인천', '대구', '대전', '광주', '울산', '세종', '수원', '제주', '강릉', '춘천', '전주',
                  '포항', '경주', '창원', '청주', '목포', '여수', '강남', '종로', '명동', '평양', '개성', '파주', '일산']
UNITS = ['Km', 'km', 'm', 'cm', 'mm', 'g', 'kg', 'ml', 'mL', 'L', '%', '원', '개', '인분', '층', '호', '번', '분', '시간',
         '인', '명', '병', '잔', '℃', 'cc', 'GB', 'W', 'V', 'mg', 'oz', 'lb']
# KS X 1001's one-character unit signs, as Korean print sets areas, weights and volumes (30㎡, 500㎖).
SQUARE_UNITS = ['㎡', '㎏', '㎎', '㎖', '㎝', '㎜', '㎞', 'ℓ']
LABEL_WORDS = ['Tel.', 'TEL', 'Tel', 'T.', 'Fax.', 'FAX', 'F.', 'Mobile.', 'H.P', 'HP.', 'M.', 'E-mail', 'No.', 'Fax']
NOTE_WORDS = ['대표자', '영수증', '주류', '런치', '디너', '주말', '평일', '공지', '안내', '필독', '특가', '신메뉴', '추천', '포장',
              '1인분', '2인', '싯가', '부가세 별도', 'VAT 포함', '현금', '카드', '합계', '결제', 'NEW', 'BEST', 'HOT', 'feat.']
PLATE_SYLLABLES = '가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주하허호배'
BRACKETS = [('(', ')'), ('[', ']'), ('<', '>'), ('{', '}'), ('「', '」'), ('『', '』'), ('"', '"'), ("'", "'"),
            ('【', '】'), ('〈', '〉'), ('《', '》'), ('*', ''), ('#', ''), ('※', ''), ('★', ''), ('○', ''), ('→', ''), ('㈜', ''),
            ('', '.'), ('', '!'), ('', '?'), ('', '~'), ('', '…'), ('', ':'), ('', ','), ('', ';'), ('', '*')]
# Bullets and list marks of Korean print (KS X 1001), set before a heading or an item, with or without a space.
BULLETS = ['■', '□', '●', '○', '◆', '◇', '▲', '△', '▼', '▶', '▷', '◀', '◎', '★', '☆', '♥', '※', '·', '-', '→']
ARROWS = ['←', '→', '↑', '↓']
HEADING_BRACKETS = [('【', '】'), ('[', ']'), ('「', '」'), ('〈', '〉'), ('《', '》'), ('<', '>')]
SURNAMES = '김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주우구민진'
PAPER_SIZES = [(210, 297), (297, 420), (148, 210), (182, 257), (257, 364), (420, 594), (105, 148), (90, 50)]
TIMES_SIGNS = ['×', '×', '×', ' × ', 'x', 'X', '*']
PAGE_FORMS = ['- {n} -', '-{n}-', '{n} / {m}', '{n}/{m}', 'p.{n}', 'P. {n}', 'p{n}', '{n}쪽', '{n}면', '{n}페이지',
              'page {n}', '({n})', '[{n}]']
CHEMICAL_LOCANTS = ['1', '2', '3', '4', '5', 'N', 'L', 'D', '1,2', '1,3', '2,4', '1,2,3', 'N,N']
CHEMICAL_STEMS = ['프로판올', '헥산다이올', '부틸렌글라이콜', '펜탄다이올', '메틸프로판다이올', '에틸헥실글리세린',
                  '페녹시에탄올', '아미노프로판올', '하이드록시벤조에이트', '메톡시신나메이트', '부탄올', '옥탄다이올']


def draw_one(rng, ladder):
    """The text of the first (bound, make) whose bound exceeds one uniform draw; bounds rise to 1."""
    kind = rng.random()
    return next((make for bound, make in ladder if kind < bound), ladder[-1][1])()


def _two(rng):
    return f'{rng.randint(0, 59):02d}'


def _digits(rng, count):
    return ''.join(rng.choice('0123456789') for _ in range(count))


def syllable_index(words, short=4, common_share=0.02):
    """Each Hangul syllable -> the words holding it, narrowed where possible to those of at most `short`
    characters, then to those whose other syllables are none of the commonest (held by more than
    common_share of the words: 하, 다, 해, 여, 한, 할, ..., the endings of inflected forms), so a held
    word brings few already frequent syllables along."""
    holding = {}
    for word in words:
        for char in set(word):
            if is_hangul_syllable(char):
                holding.setdefault(char, []).append(word)
    common = {char for char, holders in holding.items() if len(holders) > common_share * len(words)}

    def narrowed(syllable, holders):
        short_words = [w for w in holders if len(w) <= short] or holders
        return [w for w in short_words if not (set(w) - {syllable}) & common] or short_words
    return {syllable: narrowed(syllable, holders) for syllable, holders in holding.items()}


class TextSampler:
    """Draws label texts whose every character is in `characters`; deterministic for a given rng.

    The mix is what photographed signs, menus, receipts and cards carry: Korean words and phrases,
    English in three cases, the two mixed, and numbers as they are printed (prices, phones, units,
    dates, plates), often inside brackets or after a mark, so every punctuation mark of the charset is
    drawn often enough to be learnt. mix='words' draws mostly Korean words instead (words, syllable
    strings, phrases, then signs and numbers, unpunctuated), as printed pages and the font-image set
    carry them: the clean Korean type a photo model must keep reading. mix='coverage' draws what
    natural word frequency under-draws (every syllable about equally often, lone characters, masked
    and long numbers, label phrases with their commas, brackets and spaces), as a share of training
    data beside the other two; its shares are justified in _draw_coverage."""
    MIXES = ('signs', 'words', 'coverage')

    def __init__(self, characters, max_length=25, words=None, english=None, mix='signs'):
        if mix not in self.MIXES:
            raise ValueError(f'mix must be one of {self.MIXES}, not {mix!r}')
        self.mix = mix
        self.charset = set(characters)
        self.max_length = max_length
        self.syllables = sorted(c for c in self.charset if is_hangul_syllable(c))
        source = words if words is not None else default_words()
        self.words = sorted({w for w in source if set(w) <= self.charset and len(w) <= 10})
        if not self.words:
            self.words = list(self.syllables)
        english_source = english if english is not None else english_words()
        self.english = sorted({w for w in english_source if set(w) <= self.charset and len(w) <= 12})
        if not self.english:
            self.english = [w for w in LATIN_WORDS if set(w) <= self.charset] or ['']
        self.latin = [w for w in LATIN_WORDS if set(w) <= self.charset]
        self.marks = sorted(c for c in self.charset if not c.isalnum() and c != ' ')
        self.brackets = [pair for pair in BRACKETS if set(pair[0] + pair[1]) <= self.charset]
        self.headings = [pair for pair in HEADING_BRACKETS if set(pair[0] + pair[1]) <= self.charset]
        self.bullets = [mark for mark in BULLETS if mark in self.charset] or ['']
        self.arrows = [mark for mark in ARROWS if mark in self.charset] or ['']
        self.units = [u for u in UNITS + SQUARE_UNITS if set(u) <= self.charset] or ['']
        self.square_units = [u for u in SQUARE_UNITS if u in self.charset] or ['']
        self.letters = sorted(c for c in self.charset if c.isascii() and c.isalpha()) or ['']
        self.words_holding = syllable_index(self.words) if mix == 'coverage' else {}
        self.worded_syllables = sorted(self.words_holding)
        self.wordless_syllables = [s for s in self.syllables if s not in self.words_holding]

    # ---- words
    def word(self, rng):
        return rng.choice(self.words)

    def random_syllables(self, rng, low=1, high=6, pool=None):
        pool = pool or self.syllables
        return ''.join(rng.choice(pool) for _ in range(rng.randint(low, high)))

    def english_word(self, rng):
        word = rng.choice(self.english)
        case = rng.random()
        return word.upper() if case < 0.4 else word.title() if case < 0.75 else word

    def english_phrase(self, rng):
        words = [rng.choice(self.english) for _ in range(rng.randint(2, 3))]
        joiner = rng.choice([' '] * 6 + [' & ', '/', ' / ', '-', ' + '])
        phrase = joiner.join(words)
        case = rng.random()
        return phrase.upper() if case < 0.45 else phrase.title() if case < 0.8 else phrase

    def mixed(self, rng):
        kind = rng.random()
        if kind < 0.3:
            return self.english_word(rng) + rng.choice(['', ' ']) + self.word(rng)[:4]
        if kind < 0.55:
            return self.word(rng)[:5] + rng.choice(['', ' ']) + self.english_word(rng)
        if kind < 0.75:
            return rng.choice(self.latin + [self.english_word(rng)]) + rng.choice(SIGN_SUFFIXES)
        if kind < 0.9:
            return f'{rng.choice(PLACE_NAMES_KO)} {rng.choice(PLACE_NAMES)}'
        return self.word(rng)[:4] + rng.choice(['PC방', 'DVD', 'TV', 'CCTV', 'LED', 'ATM', 'Wi-Fi', 'SNS', 'KTX'])

    # ---- numbers as signs print them
    def phone(self, rng):
        area = rng.choice(['02', '031', '032', '051', '053', '062', '010', '070', '1588', '080'])
        sep = rng.choice(['-', '-', '.', ' ', ')'])
        number = f'{area}{sep}{rng.randint(100, 9999)}{"-" if sep == ")" else sep}{rng.randint(0, 9999):04d}'
        if rng.random() < 0.4:
            number = rng.choice(LABEL_WORDS) + rng.choice([' ', '', ' : ', ': ']) + number
        return number

    def price(self, rng):
        amount = f'{rng.randint(1, 400) * rng.choice([100, 500, 1000]):,}'
        form = rng.random()
        return (f'₩{amount}' if form < 0.3 else f'{amount}원' if form < 0.6 else
                f'{amount}' if form < 0.85 else rng.choice([f'{amount} 원', f'${amount}', f'{amount}원~']))

    def amount(self, rng):
        return rng.choice([str(rng.randint(1, 999)), f'{rng.randint(0, 99)}.{rng.randint(0, 9)}',
                           f'{rng.randint(1, 99)}×{rng.randint(1, 99)}'])

    def quantity(self, rng):
        return self.amount(rng) + rng.choice(UNITS)

    def measured(self, rng):
        """An amount in a one-character unit sign (500㎖, 30×40㎝), a fifth with a tolerance (5±0.5㎜)."""
        value = self.amount(rng)
        if rng.random() < 0.2 and '±' in self.charset:
            value += f'±{rng.choice(["0.1", "0.5", "1", "2", "5"])}'
        return value + rng.choice(self.square_units)

    def date_time(self, rng):
        year, month, day = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
        kind = rng.random()
        if kind < 0.35:
            return f'{year}{rng.choice("-./")}{month:02d}{rng.choice("-./")[0]}{day:02d}'.replace('/', rng.choice('-./'))
        if kind < 0.5:
            return f'{year}년 {month}월 {day}일'
        if kind < 0.75:
            return f'{rng.randint(0, 23):02d}:{_two(rng)}' + (f':{_two(rng)}' if rng.random() < 0.5 else '')
        return f'{rng.randint(6, 12)}:{rng.choice(["00", "30"])}~{rng.randint(13, 24)}:{rng.choice(["00", "30"])}'

    def code(self, rng):
        kind = rng.random()
        if kind < 0.3:
            return f'{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(0, 99999):05d}'
        if kind < 0.55:
            return f'{rng.randint(10, 999)}{rng.choice(PLATE_SYLLABLES)}{rng.choice(["", " "])}{rng.randint(1000, 9999)}'
        if kind < 0.75:
            return f'{rng.randint(1, 9999)}-{rng.randint(1, 99)} {self.word(rng)[:4]}'
        if kind < 0.9:
            return f'{self.word(rng)[:3]}로{rng.randint(1, 300)}길'
        return f'{rng.randint(19990101, 20301231)}-{_two(rng)}-{rng.randint(0, 9999):04d}'

    def number_string(self, rng):
        kind = rng.random()
        if kind < 0.22:
            return self.phone(rng)
        if kind < 0.45:
            return self.price(rng)
        if kind < 0.6:
            return self.quantity(rng)
        if kind < 0.75:
            return self.date_time(rng)
        if kind < 0.9:
            return self.code(rng)
        return str(rng.randint(0, 99999))

    def road_sign(self, rng):
        if rng.random() < 0.5:
            sign = f'{rng.choice(PLACE_NAMES)} {rng.randint(1, 450)}{rng.choice(["Km", "km", "KM"])}'
        else:
            sign = rng.choice(PLACE_NAMES + PLACE_NAMES_KO) + rng.choice(['', ' ' + rng.choice(PLACE_NAMES)])
        if rng.random() < 0.25:  # direction signs put the arrow before or after the place
            arrow = rng.choice(self.arrows)
            sign = rng.choice([f'{arrow} {sign}', f'{sign} {arrow}', arrow + sign])
        return sign

    def sign_string(self, rng):
        kind = rng.random()
        if kind < 0.35:
            return self.word(rng)[:4] + rng.choice(SIGN_SUFFIXES)
        if kind < 0.6:
            return rng.choice(SIGN_WORDS + NOTE_WORDS)
        if kind < 0.8:
            return f'{self.word(rng)[:5]}({rng.choice(NOTE_WORDS + [self.quantity(rng)])})'
        return self.word(rng) + ' ' + rng.choice(SIGN_SUFFIXES)

    def punctuated(self, rng, text):
        """text inside a bracket pair, after a bullet, or after/before a mark; now and then any charset mark
        joins two parts."""
        kind = rng.random()
        if kind < 0.5 and self.brackets:
            opening, closing = rng.choice(self.brackets)
            return opening + text + closing
        if kind < 0.7:
            return self.bulleted(rng, text)
        mark = rng.choice(self.marks) if self.marks else ''
        return rng.choice([text + mark, mark + text, text + mark + self.number_string(rng)[:6]])

    def bulleted(self, rng, text):
        """A heading or list item after its bullet (■ 원재료명, ▶예약, ※ 주의), the space kept as printed."""
        return rng.choice(self.bullets) + rng.choice(['', ' ']) + text

    # ---- coverage: what word frequency under-draws
    def balanced_word(self, rng):
        """A word holding a syllable drawn uniformly from the charset's syllables or, when no word holds
        it, a short string around it of other syllables no word holds (the phrases' real words never
        bring those): every syllable drawn about equally often."""
        syllable = rng.choice(self.syllables)
        holders = self.words_holding.get(syllable)
        if holders:
            return rng.choice(holders)
        around = self.wordless_syllables
        return self.random_syllables(rng, 0, 2, around) + syllable + self.random_syllables(rng, 1, 2, around)

    def held_word(self, rng):
        """A real word holding a syllable drawn uniformly from those some word holds: the balanced word
        of phrases, which are to read as labels do, not as syllable strings."""
        if not self.worded_syllables:
            return self.word(rng)
        return rng.choice(self.words_holding[rng.choice(self.worded_syllables)])

    def lone_token(self, rng):
        """One character or a short token, as list numbers, page corners, size tags and unit columns print."""
        return draw_one(rng, [(0.20, lambda: str(rng.randint(0, 9))),
                              (0.35, lambda: rng.choice(self.syllables)),
                              (0.50, lambda: rng.choice(self.letters)),
                              (0.60, lambda: f'{rng.randint(0, 9):02d}' if rng.random() < 0.2 else
                               str(rng.randint(10, 99))),
                              (0.68, lambda: rng.choice(self.units)),
                              (0.76, lambda: self.quantity(rng)),
                              (0.82, lambda: self.measured(rng)),
                              (0.92, lambda: self.dimensions(rng)),
                              (0.97, lambda: self.page_number(rng)),
                              (1.00, lambda: rng.choice(self.bullets + self.arrows))])

    def dimensions(self, rng):
        """Sizes as labels print them: 210mm×297mm, 210×297mm, 30 x 40 x 12cm."""
        if rng.random() < 0.5:
            width, height = rng.choice(PAPER_SIZES)
        else:
            width, height = rng.randint(1, 1200), rng.randint(1, 1200)
        unit, times = rng.choice(['mm', 'mm', 'cm', 'm', '', '㎜', '㎝']), rng.choice(TIMES_SIGNS)
        form = rng.random()
        if form < 0.4:
            return f'{width}{unit}{times}{height}{unit}'
        if form < 0.8:
            return f'{width}{times}{height}{unit}'
        return f'{width}{times}{height}{times}{rng.randint(1, 500)}{unit}'

    def page_number(self, rng):
        page = rng.randint(1, 300)
        return rng.choice(PAGE_FORMS).format(n=page, m=rng.randint(page, 400))

    def masked_number(self, rng):
        """Numbers with digits hidden by *, as receipts, forms and delivery labels print them."""
        return draw_one(rng, [(0.15, lambda: self.resident_number(rng)),
                              (0.40, lambda: self.masked_phone(rng)),
                              (0.60, lambda: rng.choice(SURNAMES) + rng.choice(['*' + rng.choice(self.syllables),
                                                                                '**', '*'])),
                              (0.72, lambda: f'{_digits(rng, 3)}-{_digits(rng, 2)}-*****'),
                              (0.90, lambda: self.card_number(rng)),
                              (1.00, lambda: f'{_digits(rng, 3)}-***-{_digits(rng, 6)}')])

    def resident_number(self, rng):
        """A resident registration number, all hidden or but its birth date (and sex digit)."""
        birth = f'{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}'
        return rng.choice(['******-*******', f'{birth}-*******', f'{birth}-{rng.randint(1, 4)}******'])

    def masked_phone(self, rng):
        first, last = _digits(rng, 4), _digits(rng, 4)
        return rng.choice([f'010-****-{last}', f'010-{first}-****', f'010-{first[:2]}**-{last}',
                           f'{rng.choice(["02", "031", "051"])}-***-{last}'])

    def card_number(self, rng):
        first, second, last = _digits(rng, 4), _digits(rng, 4), _digits(rng, 4)
        groups = rng.choice([[first, '****', '****', last], [first, second[:2] + '**', '****', last],
                             ['****', '****', '****', last], [first, second, '****', last]])
        return rng.choice(['-', '-', ' ']).join(groups)

    def lot_number(self, rng):
        """A lot or serial number as packaging prints it: FB21-02-0531호."""
        prefix = ''.join(rng.choice(self.letters).upper() for _ in range(rng.randint(1, 3)))
        return f'{prefix}{_digits(rng, 2)}-{_digits(rng, 2)}-{_digits(rng, 4)}' + rng.choice(['', '호'])

    def digit_string(self, rng):
        """Long digit strings with separators: 466-4004, FB21-02-0531호, 1,234,567, prices ending in ,000."""
        return draw_one(rng, [(0.20, lambda: f'{rng.randint(100, 9999)}-{_digits(rng, 4)}'),
                              (0.40, lambda: self.lot_number(rng)),
                              (0.60, lambda: f'{rng.randint(1000, 99_999_999):,}'),
                              (0.85, lambda: self.price(rng)),
                              (1.00, lambda: self.code(rng))])

    def joined_words(self, rng, joiner, low=2, high=4, room=None):
        """low..high held words joined by `joiner`, a word left out where it would not fit in room."""
        room = self.max_length if room is None else room
        words = [self.held_word(rng)[:room]]
        for _ in range(rng.randint(low, high) - 1):
            word = self.held_word(rng)
            if len(joiner.join(words + [word])) <= room:
                words.append(word)
        return joiner.join(words)

    def chemical_name(self, rng):
        """A hyphenated ingredient name (2-프로판올), alone or in a comma list (정제수, 2-프로판올)."""
        stem = rng.choice(CHEMICAL_STEMS) if rng.random() < 0.5 else self.held_word(rng)
        name = f'{rng.choice(CHEMICAL_LOCANTS)}-{stem}'
        form = rng.random()
        if form < 0.4:
            return name
        other = self.held_word(rng)
        return f'{other}, {name}' if form < 0.7 else f'{name}, {other}'

    def label_phrase(self, rng):
        """Words as labels and ingredient lists join them: ', ' and ',' lists, parenthesised lists,
        slashes, middle dots, hyphenated chemical names, and 2-4 words with their single spaces kept; a
        tenth after a bullet, a twentieth a heading word in brackets (【공지】, 《안내》)."""
        def bracketed():
            inner_room = self.max_length - 2
            prefix = self.held_word(rng) if rng.random() < 0.4 else ''
            inner = self.joined_words(rng, rng.choice([',', ', ']), 2, 4, inner_room - len(prefix))
            return f'{prefix}({inner})'
        phrase = draw_one(rng, [(0.20, lambda: self.joined_words(rng, ', ')),
                              (0.32, lambda: self.joined_words(rng, ',')),
                              (0.47, bracketed),
                              (0.57, lambda: self.joined_words(rng, rng.choice(['/', ' / ']), 2, 3)),
                              (0.67, lambda: self.joined_words(rng, rng.choice(['·', ' · ']), 2, 3)),
                              (0.77, lambda: self.chemical_name(rng)),
                              (1.00, lambda: self.joined_words(rng, ' '))])
        frame = rng.random()
        if frame < 0.1:
            return self.bulleted(rng, phrase)
        if frame < 0.15 and self.headings:
            opening, closing = rng.choice(self.headings)
            return opening + self.held_word(rng) + closing
        return phrase

    def sample(self, rng=random, accept=None):
        """One text; `accept` (e.g. a font's can_draw) rejects texts that cannot be rendered truthfully."""
        for _ in range(50):
            if self.mix == 'words':
                text = self._draw_korean(rng)
            elif self.mix == 'coverage':
                text = self._draw_coverage(rng)
            else:
                text = self._draw(rng)
                if rng.random() < 0.2:
                    text = self.punctuated(rng, text)
            text = text[:self.max_length].strip()
            if text and set(text) <= self.charset | {' '} and (accept is None or accept(text)):
                return text
        return rng.choice(self.syllables)

    def _draw_korean(self, rng):
        return draw_one(rng, [(0.45, lambda: self.word(rng)),
                              (0.62, lambda: self.random_syllables(rng)),
                              (0.72, lambda: ' '.join(self.word(rng) for _ in range(rng.randint(2, 3)))),
                              (0.84, lambda: self.sign_string(rng)),
                              (0.94, lambda: self.number_string(rng)),
                              (1.00, lambda: self.word(rng) + str(rng.randint(1, 999)))])

    def _draw_coverage(self, rng):
        """Shares. 35 % a balanced word: a syllable drawn uniformly, then a word holding it; with the
        phrases' words (each holding a uniformly drawn syllable) over 20,000 texts every one of the
        2,350 syllables appears (least 2, median 15, the commonest 676 times), where the words mix never
        draws some and draws 하 and 다 over 2,000 times. 20 % lone characters and short tokens: a lone
        digit in 4 % of texts (each digit alone in 0.4 %; the other mixes never draw one alone), a
        lone syllable 3 %, a lone Latin letter 3 %, two-digit numbers, units, sizes and page numbers.
        8 % masked numbers and 7 % long digit strings: rare in word lists, common on receipts, forms
        and packaging, and misread (* as Hangul, 0 as O). 30 % label phrases, the largest share after
        the syllables: their joins (', ' or ',', brackets, slashes, spaces between words) are what the
        model drops; each phrase also holds two or three balanced words."""
        return draw_one(rng, [(0.35, lambda: self.balanced_word(rng)),
                              (0.55, lambda: self.lone_token(rng)),
                              (0.63, lambda: self.masked_number(rng)),
                              (0.70, lambda: self.digit_string(rng)),
                              (1.00, lambda: self.label_phrase(rng))])

    def _draw(self, rng):
        return draw_one(rng, [(0.30, lambda: self.word(rng)),
                              (0.37, lambda: self.random_syllables(rng)),
                              (0.43, lambda: rng.choice([' '] * 8 + ['·', ' · ', '/', ', ']).join(
                                  self.word(rng) for _ in range(rng.randint(2, 3)))),
                              (0.53, lambda: self.english_word(rng)),
                              (0.59, lambda: self.english_phrase(rng)),
                              (0.66, lambda: self.mixed(rng)),
                              (0.74, lambda: self.sign_string(rng)),
                              (0.90, lambda: self.number_string(rng)),
                              (0.94, lambda: self.road_sign(rng)),
                              (1.00, lambda: self.word(rng) + str(rng.randint(1, 999)))])


if __name__ == '__main__':
    import sys
    if len(sys.argv) != 2:
        sys.exit('usage: python3 -m synth.words WORDS.txt   (writes hunspell-ko + wordfreq words, one per line)')
    print(f'{write_word_list(sys.argv[1])} words written to {sys.argv[1]}')
