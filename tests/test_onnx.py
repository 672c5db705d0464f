"""export_onnx.py + ONNX Runtime against PyTorch on rendered Korean images."""
import numpy as np
import pytest
import torch

import demo
import export_onnx
from checkpoint import atomic_save, make_checkpoint
from conftest import REPO, WORDS, render_words
from dataset import AlignCollate, RawDataset
from model import Model, ModelConfig
from onnx_recognizer import OnnxModel
from recognizer import Recognizer
from utils import UserError

SHIPPED = REPO / 'pretrained_models' / 'kocrnn.pth'


def load(path):
    return Recognizer.load(path, amp='off', device='cpu')


def image_batch(folder, config, pad):
    dataset = RawDataset(folder)
    images, _ = AlignCollate(config.imgH, config.imgW, pad)([dataset[i] for i in range(len(dataset))])
    return images


@pytest.fixture(scope='module')
def rendered(tmp_path_factory, fonts):
    folder = tmp_path_factory.mktemp('onnx_images')
    render_words(folder, WORDS[:7], fonts, 7, seed=5, degrade=0.5)
    return folder


def test_shipped_model_in_onnx_runtime_matches_pytorch(tmp_path, rendered):
    loaded = load(SHIPPED)
    export_onnx.main(['--saved_model', str(SHIPPED), '--output', str(tmp_path / 'kocrnn.onnx')])
    runtime = OnnxModel(tmp_path / 'kocrnn.onnx')
    assert runtime.characters == loaded.characters and runtime.PAD == loaded.PAD
    assert runtime.config == loaded.config
    assert runtime.decoding == loaded.model_decoding and runtime.decoding['beam_size'] == 8  # travels as well
    images = torch.cat([image_batch(rendered, loaded.config, loaded.PAD),
                        image_batch(REPO / 'demo_image', loaded.config, loaded.PAD)])  # 19 images: any batch size
    with torch.no_grad():
        expected = loaded.head.scores(loaded.network, images).numpy()
    got = runtime.scores(images)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-3
    assert loaded.head.decode_scores(got)[0] == loaded.head.decode_scores(expected)[0]

    # demo.py --onnx writes the same test_log.txt as the PyTorch path
    logs = {}
    for name, extra in (('torch', []), ('onnx', ['--onnx', str(tmp_path / 'kocrnn.onnx')])):
        logs[name] = tmp_path / f'{name}.txt'
        demo.main(['--image_folder', str(REPO / 'demo_image'), '--label_test', str(REPO / 'demo_image' / 'labels.txt'),
                   '--log_filename', str(logs[name]), '--workers', '0', '--quiet', *extra])
    columns = lambda path: [line.split('\t')[:3] for line in path.read_text(encoding='utf-8').splitlines()]
    assert columns(logs['onnx']) == columns(logs['torch'])


def test_tps_resnet_attention_exports_with_a_dynamic_batch(tmp_path, rendered):
    characters = sorted(set(''.join(WORDS)))
    config = ModelConfig(num_class=len(characters) + 2, Transformation='TPS', FeatureExtraction='ResNet',
                         SequenceModeling='BiLSTM', Prediction='Attn', output_channel=64, hidden_size=32)
    torch.manual_seed(0)
    atomic_save(make_checkpoint(Model(config), config, characters), tmp_path / 'attn.pth')
    export_onnx.main(['--saved_model', str(tmp_path / 'attn.pth'), '--output', str(tmp_path / 'attn.onnx')])
    loaded, runtime = load(tmp_path / 'attn.pth'), OnnxModel(tmp_path / 'attn.onnx')
    images = image_batch(rendered, config, False)
    for batch in (images[:1], images):  # exported with batch 2, run with 1 and 7
        with torch.no_grad():
            expected = loaded.head.scores(loaded.network, batch).numpy()
        got = runtime.scores(batch)
        assert got.shape == (len(batch), config.batch_max_length + 1, config.num_class)
        assert np.abs(got - expected).max() < 1e-3
        assert loaded.head.decode_scores(got)[0] == loaded.head.decode_scores(expected)[0]


def test_onnx_file_without_kocrnn_metadata_is_a_clear_error(tmp_path):
    (tmp_path / 'junk.onnx').write_bytes(b'not a model')
    with pytest.raises(UserError, match='cannot load ONNX model'):
        OnnxModel(tmp_path / 'junk.onnx')


def test_onnx_metadata_naming_another_image_size_is_a_clear_error(tmp_path):
    import json

    import onnx
    characters = sorted(set(''.join(WORDS)))
    config = ModelConfig(num_class=len(characters) + 1, output_channel=32, hidden_size=32)
    atomic_save(make_checkpoint(Model(config), config, characters), tmp_path / 'small.pth')
    export_onnx.main(['--saved_model', str(tmp_path / 'small.pth'), '--output', str(tmp_path / 'small.onnx')])
    OnnxModel(tmp_path / 'small.onnx')  # as exported: loads
    proto = onnx.load(str(tmp_path / 'small.onnx'))
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    for key, value in (('imgH', 33), ('imgW', 120), ('input_channel', 3)):
        edited = dict(json.loads(metadata['kocrnn.config']), **{key: value})
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, dict(metadata, **{'kocrnn.config': json.dumps(edited)}))
        onnx.save(proto, tmp_path / 'edited.onnx')
        with pytest.raises(UserError, match='but the network takes 1x32x100'):
            OnnxModel(tmp_path / 'edited.onnx')
