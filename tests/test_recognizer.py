"""The Python entry point (recognizer.Recognizer) and attention beam search."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import demo
from checkpoint import atomic_save, make_checkpoint
from conftest import REPO
from decoding import Decoding, attention_hypotheses
from heads import AttnLabelConverter
from model import Model, ModelConfig
from recognizer import Reading, Recognizer
from utils import UserError

DEMO = REPO / 'demo_image'


@pytest.fixture(scope='module')
def reader():
    return Recognizer.load(amp='off', device='cpu')


def labels():
    return dict(line.split(' ', 1) for line in (DEMO / 'labels.txt').read_text(encoding='utf-8').splitlines())


def test_paths_pil_images_and_arrays_read_alike_and_as_demo_does(reader, tmp_path):
    names = sorted(labels())
    by_path = reader.read([DEMO / name for name in names])
    assert all(isinstance(r, Reading) and 0 < r.confidence <= 1 for r in by_path)
    assert sum(r.text == labels()[name] for r, name in zip(by_path, names)) >= 11
    pictures = [Image.open(DEMO / name) for name in names]
    assert [r.text for r in reader.read(pictures)] == [r.text for r in by_path]
    arrays = [np.asarray(picture.convert('RGB')) for picture in pictures]
    assert [r.text for r in reader.read(arrays, batch_size=5)] == [r.text for r in by_path]
    assert reader.read(str(DEMO / names[0])).text == by_path[0].text  # one image in, one Reading out

    demo.main(['--image_folder', str(DEMO), '--log_filename', str(tmp_path / 'log.txt'), '--workers', '0',
               '--amp', 'off', '--quiet'])
    rows = [line.split('\t') for line in (tmp_path / 'log.txt').read_text(encoding='utf-8').splitlines()[1:]]
    assert [row[1].strip() for row in rows] == [r.text for r in by_path]


def test_what_cannot_be_read_is_a_clear_error(reader, tmp_path):
    (tmp_path / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(UserError, match='cannot read image'):
        reader.read(tmp_path / 'broken.png')
    with pytest.raises(UserError, match='H x W'):
        reader.read(np.zeros((2, 3, 4, 5), dtype=np.uint8))
    with pytest.raises(UserError, match='give a file path'):
        reader.read([42])
    with pytest.raises(TypeError, match='unknown model option'):
        Recognizer.load(Transformaton='TPS')


class ScriptedDecoder:
    """An attention decoder whose step probabilities depend only on the text so far (held in `hidden`)."""
    converter = AttnLabelConverter(list('abcd'))
    A, B, C, D = 2, 3, 4, 5
    END = AttnLabelConverter.END
    # prefix -> {next class: probability}; greedy takes a (0.55) then c (0.4): 'ac' = 0.22, while 'b' = 0.405
    TABLE = {(): {A: 0.55, B: 0.45}, (A,): {C: 0.4, D: 0.3, END: 0.3}, (B,): {END: 0.9, D: 0.1},
             (A, C): {END: 1.0}, (A, D): {END: 1.0}, (B, D): {END: 1.0}}

    def __init__(self):
        self.prefixes = [()]

    def start(self, batch_H):
        return (torch.zeros(1, 1), torch.zeros(1, 1)), torch.zeros_like(batch_H)

    def step(self, hidden, batch_H, projected, previous):
        codes = hidden[0][:, 0].long().tolist()
        rows, new_codes = [], []
        for code, label in zip(codes, previous.tolist()):
            prefix = self.prefixes[code] + ((label,) if label != self.converter.GO else ())
            if prefix not in self.prefixes:
                self.prefixes.append(prefix)
            new_codes.append(self.prefixes.index(prefix))
            probs = np.full(len(self.converter.character), 1e-9)
            for cls, p in self.TABLE.get(prefix, {self.END: 1.0}).items():
                probs[cls] = p
            rows.append(np.log(probs))
        code = torch.tensor(new_codes, dtype=torch.float32)[:, None]
        return (code, code), torch.tensor(np.array(rows), dtype=torch.float32)


def test_attention_beam_search_finds_the_more_probable_text_greedy_misses():
    def best(beam_size):
        hypotheses = attention_hypotheses(ScriptedDecoder(), torch.zeros(1, 4, 2), ScriptedDecoder.converter,
                                          beam_size, batch_max_length=5)
        return max(hypotheses, key=lambda h: h[1])

    greedy_text, greedy_score = best(1)
    assert greedy_text == 'ac' and math.exp(greedy_score) == pytest.approx(0.22, rel=1e-3)
    beam_text, beam_score = best(3)
    assert beam_text == 'b' and math.exp(beam_score) == pytest.approx(0.405, rel=1e-3)


def test_attention_model_reads_with_a_beam_through_the_recognizer(tmp_path):
    characters = list('가나다라')
    config = ModelConfig(num_class=len(characters) + 2, Transformation='None', FeatureExtraction='VGG',
                         SequenceModeling='BiLSTM', Prediction='Attn', output_channel=32, hidden_size=16,
                         batch_max_length=6)
    torch.manual_seed(0)
    atomic_save(make_checkpoint(Model(config), config, characters), tmp_path / 'attn.pth')
    reader = Recognizer.load(tmp_path / 'attn.pth', decoding=Decoding(beam_size=4), amp='off', device='cpu')
    images = [np.full((32, 80), 200, dtype=np.uint8), np.full((20, 60), 30, dtype=np.uint8)]
    readings = reader.read(images)
    assert len(readings) == 2
    for reading in readings:
        assert set(reading.text) <= set(characters) and len(reading.text) <= 7
        assert 0 <= reading.confidence <= 1


def test_a_dtrb_state_dict_loads_with_its_options_as_keyword_arguments(tmp_path):
    characters = '0123456789abcdefghijklmnopqrstuvwxyz'
    config = ModelConfig(num_class=len(characters) + 2, Transformation='TPS', FeatureExtraction='VGG',
                         SequenceModeling='BiLSTM', Prediction='Attn', output_channel=32, hidden_size=16)
    torch.manual_seed(0)
    original = Model(config).eval()
    torch.save({f'module.{k}': v for k, v in original.state_dict().items()}, tmp_path / 'dtrb.pth')
    reader = Recognizer.load(tmp_path / 'dtrb.pth', Transformation='TPS', FeatureExtraction='VGG',
                             SequenceModeling='BiLSTM', Prediction='Attn', output_channel=32, hidden_size=16,
                             character=characters, amp='off', device='cpu')
    images = [np.random.default_rng(1).integers(0, 255, (32, 100), dtype=np.uint8) for _ in range(3)]
    batch, _ = reader.collate()([(Image.fromarray(image), None) for image in images])
    with torch.no_grad():
        expected = reader.head.decode_scores(reader.head.scores(original, batch))
    assert [r.text for r in reader.read(images)] == expected[0]
    with pytest.raises(UserError, match='does not fit these model options'):  # sizes left at their defaults
        Recognizer.load(tmp_path / 'dtrb.pth', Transformation='TPS', FeatureExtraction='VGG', Prediction='Attn',
                        character=characters)
