"""Decoding on hand-made CTC score matrices: beam search against greedy, and what the word list may change."""
import itertools
import math

import numpy as np
import pytest
import torch

from decoding import Decoding, ctc_prefix_beam_search, read_lexicon
from heads import make_head
from utils import UserError

CHARS = list('서울몰1769 스테이크(2인)a')
HEAD = make_head('CTC', CHARS)
CONVERTER = HEAD.converter


def frames(*rows):
    """One CTC frame per row of {character or '' (blank): probability}; the rest share what is left."""
    scores = np.full((len(rows), len(CHARS) + 1), 1e-6)
    for t, row in enumerate(rows):
        for char, p in row.items():
            scores[t, 0 if char == '' else CONVERTER.dict[char]] = p
    scores /= scores.sum(1, keepdims=True)
    return torch.from_numpy(np.log(scores)).float()[None]


def text_of(scores, decoding=Decoding()):
    return HEAD.decode_scores(scores, decoding)[0][0]


def test_beam_sums_alignments_that_greedy_splits():
    # each frame: blank 0.6, 'a' 0.4. Greedy reads blank, blank -> ''. 'a' has a, ab, ba: 0.16 + 2 * 0.24 = 0.64.
    scores = frames({'': 0.6, 'a': 0.4}, {'': 0.6, 'a': 0.4})
    assert text_of(scores) == ''
    assert text_of(scores, Decoding(beam_size=4)) == 'a'
    (best, log_p), *_ = ctc_prefix_beam_search(torch.log_softmax(scores[0], 1).numpy(), 4)
    assert math.exp(log_p) == pytest.approx(0.64, abs=1e-3)


def test_repeats_need_a_blank_between():
    scores = frames({'1': 0.9}, {'1': 0.9}, {'': 0.9}, {'1': 0.9})
    assert text_of(scores) == text_of(scores, Decoding(beam_size=8)) == '11'


def exact_prefix_probabilities(log_probs):
    """{labels: probability} summed over every alignment (every class in every frame): the truth a prefix
    beam search wide enough to keep every prefix must reach."""
    totals = {}
    for path in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        labels = tuple(c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1]))
        totals[labels] = totals.get(labels, 0.0) + math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return totals


@pytest.mark.parametrize('seed', range(6))
def test_a_wide_beam_gives_every_prefix_its_exact_probability(seed):
    # 5 random frames over blank + 3 classes; in odd seeds some are sure of blank, frames where the search
    # extends no prefix, so a prefix's probability may lack at most 0.001 (their labels' share) per such frame
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (5, 4))
    sure_blank = (rng.random(5) < 0.5) & (seed % 2 == 1)
    logits[sure_blank, 0] = 12.0
    log_probs = torch.log_softmax(torch.from_numpy(logits), 1).numpy().astype(np.float32)
    truth = exact_prefix_probabilities(log_probs.astype(np.float64))
    found = ctc_prefix_beam_search(log_probs, 400)  # more than the 364 label sequences of 5 frames
    assert [p for _, p in found] == sorted((p for _, p in found), reverse=True)  # best first
    found = {labels: p for labels, p in found if p > -math.inf}  # a repeat with no frame for its blank: 0
    if not sure_blank.any():
        assert set(found) == set(truth)
    tolerance = 1e-7 + 1e-3 * sure_blank.sum()
    assert {labels: pytest.approx(math.exp(p), rel=1e-5, abs=tolerance) for labels, p in found.items()} == \
        {labels: truth[labels] for labels in found}
    best = max(truth, key=truth.get)
    assert next(iter(found)) == best and ctc_prefix_beam_search(log_probs, 4)[0][0] == best


def test_word_list_picks_a_word_among_near_ties_only():
    near_tie = frames({'서': 0.95}, {'': 0.9}, {'몰': 0.5, '울': 0.45})
    lexicon = frozenset({'서울'})
    assert text_of(near_tie, Decoding(beam_size=8)) == '서몰'
    assert text_of(near_tie, Decoding(beam_size=8, lexicon=lexicon, lexicon_weight=2.0)) == '서울'
    clear = frames({'서': 0.95}, {'': 0.9}, {'몰': 0.98, '울': 0.01})
    assert text_of(clear, Decoding(beam_size=8, lexicon=lexicon, lexicon_weight=2.0)) == '서몰'


def test_word_list_never_changes_numbers_or_spacing():
    number = frames({'1': 0.9}, {'': 0.9}, {'7': 0.6, '1': 0.35}, {'6': 0.9}, {'9': 0.9})
    lexicon = frozenset({'서울', '스테이크', '1169', 'a'})
    assert text_of(number, Decoding(beam_size=8, lexicon=lexicon, lexicon_weight=5.0)) == '1769'
    # '스테이크(2인)' or '스테이크 (2인)': the word list holds 스테이크 either way; the model's spacing stays
    menu = frames(*[{c: 0.95} for c in '스테이크'], {' ': 0.4, '': 0.6}, *[{c: 0.95} for c in '(2인)'])
    assert text_of(menu, Decoding(beam_size=8, lexicon=lexicon, lexicon_weight=5.0)) == '스테이크(2인)'


def test_lexicon_file_is_read_as_words(tmp_path):
    path = tmp_path / 'words.txt'
    path.write_text('서울역 광장\nCafe\n\n', encoding='utf-8')
    assert read_lexicon(path) == {'서울역', '광장', 'Cafe'}
    with pytest.raises(UserError):
        read_lexicon(tmp_path / 'missing.txt')


def test_the_shipped_word_list_holds_korean_and_english_words_and_no_numbers():
    lexicon = read_lexicon('default')
    assert len(lexicon) > 100000
    assert {'서울', '학교', '아줌마', 'steak', 'salad'} <= lexicon
    assert not any(token.isdigit() for token in lexicon)  # a number is never pulled towards a listed one
