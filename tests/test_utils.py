"""Charset loading, label converters, metrics and the gt parser."""
import unicodedata

import pytest
import torch
from hypothesis import given, settings, strategies as st

from gtfile import GtLineError, parse_gt_line
from metrics import character_error_rate, edit_distance, normalized_edit_distance
from charset import LabelNormalizer, is_case_sensitive, load_charset, read_character_file
from heads import AttnLabelConverter, CTCLabelConverter
from utils import UserError

SMALL = list('가나다라마바사아자차카타파하한글 -]^\\AaBb0123')


def test_default_charset_has_all_ks_x_1001_syllables_space_and_both_cases():
    characters = load_charset()
    syllables = [c for c in characters if '\uac00' <= c <= '\ud7a3']
    assert len(syllables) == 2350
    assert all(len(c.encode('euc_kr')) == 2 for c in syllables)
    assert ' ' in characters and 'A' in characters and 'a' in characters and '0' in characters
    assert set('【】■□●※「」㎡㎏±←↑↓') <= set(characters)  # marks and unit signs of Korean print
    assert all(len(c.encode('euc_kr')) == 2 for c in characters if not c.isascii() and c != '₩')  # KS X 1001 but ₩
    assert len(characters) == len(set(characters))


def test_charset_file_nfd_space_line_and_one_line_format(tmp_path):
    nfd = unicodedata.normalize('NFD', '한글')
    path = tmp_path / 'chars.txt'
    path.write_text(f'\ufeff{nfd[:3]}\r\n{nfd[3:]}\n \n\nab\n', encoding='utf-8')
    assert read_character_file(path) == ['한', '글', ' ', 'a', 'b']


def test_character_string_overrides_file_and_sensitive_adds_ascii():
    assert load_charset(character='가나다') == ['가', '나', '다']
    sensitive = load_charset(character='가나다', sensitive=True)
    assert sensitive[:3] == ['가', '나', '다'] and 'Z' in sensitive and 'z' in sensitive  # Hangul kept


def test_missing_charset_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match='cannot read character file'):
        load_charset(character_file=tmp_path / 'nope.txt')


def test_case_follows_the_charset():
    assert is_case_sensitive(load_charset())
    lower_only = LabelNormalizer(list('가abc'))
    assert lower_only('가ABC') == '가abc'
    mixed = LabelNormalizer(list('가abcABC'))
    assert mixed('가AbC') == '가AbC'


def test_filter_characters_that_break_a_regex_are_plain_characters():
    normalizer = LabelNormalizer(SMALL)
    assert normalizer.unknown_characters('가-]^\\') == []
    assert normalizer.unknown_characters('가[z') == ['[', 'z']


charset_text = st.text(alphabet=SMALL, max_size=25)


@settings(max_examples=200, deadline=None)
@given(st.lists(charset_text, min_size=1, max_size=5))
def test_attn_round_trip(texts):
    converter = AttnLabelConverter(SMALL)
    encoded, lengths = converter.encode(texts, batch_max_length=25)
    assert lengths.tolist() == [len(t) + 1 for t in texts]
    assert converter.decode(encoded[:, 1:]) == texts


@settings(max_examples=200, deadline=None)
@given(st.lists(charset_text, min_size=1, max_size=5))
def test_ctc_round_trip_through_a_frame_alignment(texts):
    """Any text comes back from a CTC path that spells it with repeats and blanks between."""
    converter = CTCLabelConverter(SMALL)
    encoded, lengths = converter.encode(texts, batch_max_length=25)
    frames = torch.zeros(len(texts), 80, dtype=torch.long)
    for row, (indices, length) in enumerate(zip(encoded, lengths)):
        path = []
        for index in indices[:length].tolist():
            path += [index, index, 0]
        frames[row, :len(path)] = torch.tensor(path)
    assert converter.decode_greedy(frames) == texts


def test_ctc_decode_merges_repeats_only_without_blank_between():
    converter = CTCLabelConverter(list('ab'))
    frames = torch.tensor([[1, 1, 0, 1, 2, 2, 0, 0]])
    assert converter.decode_greedy(frames) == ['aab']


@pytest.mark.parametrize('pred, gt, distance, cer', [
    ('학교', '학교', 0, 0.0),
    ('학고', '학교', 1, 0.5),        # substitution
    ('학교가', '학교', 1, 0.5),      # insertion
    ('학', '학교', 1, 0.5),          # deletion
    ('', '학교', 2, 1.0),            # empty prediction
    ('가', '', 1, 1.0),             # empty label: no division by zero
])
def test_hand_checked_cer(pred, gt, distance, cer):
    assert edit_distance(pred, gt) == distance
    assert character_error_rate(pred, gt) == pytest.approx(cer)


@settings(max_examples=300, deadline=None)
@given(charset_text, charset_text)
def test_metric_properties(a, b):
    assert edit_distance(a, b) == edit_distance(b, a)
    assert 0.0 <= normalized_edit_distance(a, b) <= 1.0
    assert normalized_edit_distance(a, b) == normalized_edit_distance(b, a)
    assert (character_error_rate(a, b) == 0) == (a == b)
    assert (normalized_edit_distance(a, b) == 1.0) == (a == b)
    assert edit_distance(a, b) <= max(len(a), len(b))


@pytest.mark.parametrize('line, expected', [
    ('train/a.jpg\t간판 글자\n', ('train/a.jpg', '간판 글자')),
    ('a.jpg 간판 글자\r\n', ('a.jpg', '간판 글자')),          # the seed's labels.txt: first space separates
    ('a.jpg\t' + unicodedata.normalize('NFD', '한글') + '  ', ('a.jpg', '한글')),
])
def test_gt_lines(line, expected):
    assert parse_gt_line(line) == expected


@pytest.mark.parametrize('line, reason', [
    ('no_separator.jpg', 'no tab or space'),
    ('a.jpg\tx\ty', 'tab inside the label'),
    ('   ', 'empty line'),
])
def test_bad_gt_lines(line, reason):
    with pytest.raises(GtLineError, match=reason):
        parse_gt_line(line)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters='\t\r\n ', blacklist_categories=('Cs', 'Zs', 'Cc')),
               min_size=1, max_size=30), charset_text.filter(lambda t: t.strip() == t and t))
def test_gt_parser_round_trip(path, label):
    assert parse_gt_line(f'{path}\t{label}\n') == (path, unicodedata.normalize('NFC', label))


def test_a_full_disk_keeps_the_earlier_file_whole(tmp_path, monkeypatch):
    import errno
    import os

    from utils import atomic_write_bytes
    target = tmp_path / 'model.pth'
    atomic_write_bytes(b'old weights', target)
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, handle, mode):
            self.file = real_fdopen(handle, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.file.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fdopen', FullDisk)
    with pytest.raises(UserError, match='No space left on device; the previous model.pth is kept'):
        atomic_write_bytes(b'new weights', target)
    assert target.read_bytes() == b'old weights'
    assert [p.name for p in tmp_path.iterdir()] == ['model.pth']  # no temp file left behind


def test_optimizer_options_come_from_their_own_key_or_an_older_checkpoint_s_args():
    from optimization import OptimizerOptions, learning_rate
    saved = OptimizerOptions(adam=True, lr=3e-4, scheduler='cosine', warmup=10, schedule_by='time')
    assert OptimizerOptions.from_checkpoint({'optimizer_options': saved.to_dict(), 'args': {'lr': 1.0}}) == saved
    legacy = OptimizerOptions.from_checkpoint({'args': {'adam': True, 'lr': 3e-4, 'exp_name': 'x'}})
    assert legacy.adam and legacy.lr == 3e-4 and legacy.scheduler == 'none'
    assert OptimizerOptions.from_checkpoint({'model': {}}) is None
    # cosine over 10 minutes by time: full lr after warm-up at the start, 2 % at the end
    assert learning_rate(saved, 10, 0.0, 1000, 10) == pytest.approx(3e-4)
    assert learning_rate(saved, 500, 600.0, 1000, 10) == pytest.approx(6e-6)
