"""Metrics, written once for train.py's validation, test.py, demo.py, its report and the benches.

Word accuracy (exact match), dtrb's ICDAR2019 normalised edit distance, CER (edit distance over the
label's characters) and the jamo error rate: the same over the NFD decomposition of Hangul syllables
into their letters, so 아줌마 read as 아줍마 is 1 jamo wrong of 9, not 1 syllable of 3. Accuracy is also
split by kind of text (Hangul only / Latin-digits only / mixed).
"""
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein


def edit_distance(a, b):
    """Levenshtein distance (insertions, deletions and substitutions all cost 1)."""
    return Levenshtein.distance(a, b)


def normalized_edit_distance(pred, gt):
    """dtrb's ICDAR2019 score for one sample: 1 - ED / max(len); 1.0 is a perfect match."""
    longest = max(len(pred), len(gt))
    if longest == 0:
        return 1.0
    return 1.0 - edit_distance(pred, gt) / longest


def character_error_rate(pred, gt):
    """Edit distance divided by the ground-truth length (at least 1, so an empty label never divides by 0)."""
    return edit_distance(pred, gt) / max(len(gt), 1)


def jamo(text):
    """Hangul syllables split into their letters (NFD: 줌 -> ㅈ ㅜ ㅁ as conjoining jamo); others kept."""
    return unicodedata.normalize('NFD', text)


def jamo_error_rate(pred, gt):
    """CER over the jamo of both texts."""
    return character_error_rate(jamo(pred), jamo(gt))


@dataclass
class Scores:
    accuracy: float   # percent of exact matches
    norm_ED: float    # mean ICDAR2019 normalised edit distance, 0..1
    cer: float        # mean per-sample CER
    count: int
    jer: float = 0.0  # mean per-sample jamo error rate


def score_predictions(preds, labels):
    if not labels:
        return Scores(0.0, 0.0, 0.0, 0)
    n = len(labels)
    correct = sum(p == g for p, g in zip(preds, labels))
    norm_ed = sum(normalized_edit_distance(p, g) for p, g in zip(preds, labels))
    cer = sum(character_error_rate(p, g) for p, g in zip(preds, labels))
    jer = sum(jamo_error_rate(p, g) for p, g in zip(preds, labels))
    return Scores(100.0 * correct / n, norm_ed / n, cer / n, n, jer / n)


TEXT_KINDS = ('Hangul only', 'Latin/digits only', 'mixed')


def text_kind(label):
    """Which of TEXT_KINDS a label is: Hangul with no Latin letter or digit, no Hangul at all, or both
    (punctuation does not count either way)."""
    has_hangul = any('\uac00' <= c <= '\ud7a3' for c in label)
    has_latin_or_digit = any(c.isascii() and c.isalnum() for c in label)
    if has_hangul:
        return TEXT_KINDS[2] if has_latin_or_digit else TEXT_KINDS[0]
    return TEXT_KINDS[1]


def scores_by_kind(preds, labels):
    """{kind: Scores} over TEXT_KINDS (kinds with no label are left out)."""
    groups = {}
    for pred, label in zip(preds, labels):
        preds_of_kind, labels_of_kind = groups.setdefault(text_kind(label), ([], []))
        preds_of_kind.append(pred)
        labels_of_kind.append(label)
    return {kind: score_predictions(*groups[kind]) for kind in TEXT_KINDS if kind in groups}


def format_by_kind(by_kind):
    """'Hangul only 28/44 (63.6 %), ...' for a log line."""
    return ', '.join(f'{kind} {round(s.accuracy * s.count / 100)}/{s.count} ({s.accuracy:.1f} %)'
                     for kind, s in by_kind.items())
