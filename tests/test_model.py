"""The model has dtrb's exact parameter names and shapes, and dtrb-layout files load."""
import argparse
import re
from pathlib import Path

import pytest
import torch

from checkpoint import load_checkpoint, load_weights
from model import Model, ModelConfig
from utils import UserError

SPEC_DIR = Path(__file__).parent / 'spec'


def read_spec(path):
    lines = path.read_text().splitlines()
    stages = re.search(r'Model\((\S+)\)', lines[0]).group(1).split('-')
    num_class = int(re.search(r'num_class=(\d+)', lines[0]).group(1))
    shapes = {}
    for line in lines:
        if not line.startswith('#'):
            key, shape, dtype = line.split('\t')
            shapes[key] = (tuple(int(v) for v in re.findall(r'\d+', shape)), dtype)
    return stages, num_class, shapes


@pytest.mark.parametrize('spec', sorted(SPEC_DIR.glob('*.txt')), ids=lambda p: p.stem)
def test_state_dict_matches_dtrb(spec):
    (transformation, feature, sequence, prediction), num_class, expected = read_spec(spec)
    model = Model(ModelConfig(num_class=num_class, Transformation=transformation, FeatureExtraction=feature,
                              SequenceModeling=sequence, Prediction=prediction))
    got = {k: (tuple(v.shape), str(v.dtype).replace('torch.', '')) for k, v in model.state_dict().items()}
    assert got == expected


@pytest.mark.parametrize('stages', ['None-VGG-BiLSTM-CTC', 'TPS-ResNet-BiLSTM-Attn', 'None-RCNN-None-CTC'])
def test_output_shapes(stages):
    t, f, s, p = stages.split('-')
    config = ModelConfig(num_class=50, Transformation=t, FeatureExtraction=f, SequenceModeling=s, Prediction=p,
                         output_channel=64, hidden_size=32)
    model = Model(config).eval()
    images = torch.randn(3, 1, 32, 100)
    text = torch.zeros(3, config.batch_max_length + 1, dtype=torch.long)
    out = model(images, text, is_train=False)
    assert out.shape[0] == 3 and out.shape[-1] == 50
    if p == 'Attn':
        assert out.shape[1] == config.batch_max_length + 1


def test_dtrb_checkpoint_with_module_prefix_gives_identical_outputs(tmp_path):
    config = ModelConfig(num_class=30, Transformation='TPS', FeatureExtraction='VGG', SequenceModeling='BiLSTM',
                         Prediction='CTC', output_channel=64, hidden_size=32)
    torch.manual_seed(0)
    original = Model(config).eval()
    path = tmp_path / 'dtrb.pth'
    # dtrb's train.py saves the DataParallel-wrapped model's state_dict
    torch.save({f'module.{k}': v for k, v in original.state_dict().items()}, path)
    loaded = Model(config).eval()
    load_weights(loaded, load_checkpoint(path)['model'], path)
    images = torch.randn(2, 1, 32, 100)
    with torch.no_grad():
        assert torch.equal(original(images), loaded(images))


def test_checkpoint_of_other_charset_names_the_sizes(tmp_path):
    small = ModelConfig(num_class=30, Transformation='None', FeatureExtraction='VGG', SequenceModeling='BiLSTM',
                        Prediction='CTC', output_channel=64, hidden_size=32)
    path = tmp_path / 'other.pth'
    torch.save(Model(small).state_dict(), path)
    model = Model(ModelConfig(**{**small.to_dict(), 'num_class': 2460}))
    with pytest.raises(UserError, match=r'trained for 30 classes but this charset gives 2460.*--FT'):
        load_weights(model, load_checkpoint(path)['model'], path)


def test_checkpoint_of_other_stages_is_explained(tmp_path):
    vgg = ModelConfig(num_class=30, Transformation='None', FeatureExtraction='VGG', SequenceModeling='BiLSTM',
                      Prediction='CTC', output_channel=64, hidden_size=32)
    path = tmp_path / 'vgg.pth'
    torch.save(Model(vgg).state_dict(), path)
    model = Model(ModelConfig(**{**vgg.to_dict(), 'Transformation': 'TPS'}))
    with pytest.raises(UserError, match='other stages than TPS-VGG-BiLSTM-CTC'):
        load_weights(model, load_checkpoint(path)['model'], path)


def test_unsafe_pickle_is_refused(tmp_path):
    path = tmp_path / 'with_namespace.pth'
    torch.save({'model': {}, 'opt': argparse.Namespace(lr=1.0)}, path)  # as some dtrb forks save
    with pytest.raises(UserError, match='holds a argparse.Namespace object.*unsafe unpickling'):
        load_checkpoint(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / 'junk.pth'
    path.write_bytes(b'not a zip file at all')
    with pytest.raises(UserError, match='not a readable PyTorch checkpoint'):
        load_checkpoint(path)


def test_gpu_trained_checkpoint_loads_on_cpu(tmp_path, monkeypatch):
    """A file whose tensors were saved from CUDA (storage tag 'cuda:0') loads on a machine without a GPU."""
    config = ModelConfig(num_class=30, Transformation='None', FeatureExtraction='VGG', SequenceModeling='BiLSTM',
                         Prediction='CTC', output_channel=64, hidden_size=32)
    model = Model(config)
    path = tmp_path / 'gpu.pth'
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, 'location_tag', lambda storage: 'cuda:0')
        torch.save({f'module.{k}': v for k, v in model.state_dict().items()}, path)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='CUDA'):
            torch.load(path, weights_only=True)  # what a plain load does on this machine
    loaded = Model(config)
    load_weights(loaded, load_checkpoint(path)['model'], path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))


@pytest.mark.parametrize('prediction', ['CTC', 'Attn'])
def test_finetune_to_a_new_charset_keeps_the_classes_both_hold(prediction):
    """The scores of the classes an old and a new charset share come out the same (moved to their new
    places); a new class starts fresh. Here `b`, `c`, `a` are shared, `x` is new and `d` is dropped."""
    from checkpoint import carry_over_classes
    from heads import make_head
    old_chars, new_chars = 'abcd', 'xbca'
    heads = {chars: make_head(prediction, chars) for chars in (old_chars, new_chars)}
    make = lambda chars: Model(ModelConfig(num_class=heads[chars].num_class(chars), Transformation='None',
                                           FeatureExtraction='VGG', SequenceModeling='BiLSTM', Prediction=prediction,
                                           output_channel=32, hidden_size=16, batch_max_length=4)).eval()
    torch.manual_seed(0)
    old = make(old_chars)
    torch.manual_seed(1)
    new = make(new_chars)
    old_classes, new_classes = (heads[c].converter.character for c in (old_chars, new_chars))
    weights, carried = carry_over_classes(old.state_dict(), new, heads[new_chars].class_axes, old_classes,
                                          new_classes)
    assert carried == len(new_classes) - 1  # all but x (blank, or [GO] and [s], carried too)
    fresh = new.state_dict()
    assert load_weights(new, weights, 'old.pth', finetune=True) == 0
    images = torch.rand(2, 1, 32, 100) * 2 - 1
    with torch.no_grad():
        if prediction == 'CTC':
            before, after = old(images), new(images)
        else:  # teacher-forced on the same text: each step is fed the same class, at its own index
            text = ['cab', 'bb']
            before = old(images, heads[old_chars].converter.encode(text, 4)[0][:, :-1], is_train=True)
            after = new(images, heads[new_chars].converter.encode(text, 4)[0][:, :-1], is_train=True)
    for j, name in enumerate(new_classes):
        if name in old_classes:
            assert torch.allclose(after[..., j], before[..., old_classes.index(name)], atol=1e-5), name
    x = new_classes.index('x')
    for key, axis in heads[new_chars].class_axes.items():
        assert torch.equal(new.state_dict()[key].select(axis, new.state_dict()[key].shape[axis] - len(new_classes) + x),
                           fresh[key].select(axis, fresh[key].shape[axis] - len(new_classes) + x))
