"""The four-stage scene-text recogniser: transformation -> feature extraction -> sequence
modeling -> prediction (Baek et al., "What is wrong with scene text recognition model
comparisons?", ICCV 2019). Parameter names match clovaai's deep-text-recognition-benchmark,
so its .pth files load unchanged."""
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn

from modules.feature_extraction import RCNN_FeatureExtractor, ResNet_FeatureExtractor, VGG_FeatureExtractor
from modules.prediction import CTC, Attention
from modules.sequence_modeling import BidirectionalLSTM
from modules.transformation import TPS_SpatialTransformerNetwork

STAGE_CHOICES = {
    'Transformation': ('None', 'TPS'),
    'FeatureExtraction': ('VGG', 'RCNN', 'ResNet'),
    'SequenceModeling': ('None', 'BiLSTM'),
    'Prediction': ('CTC', 'Attn'),
}
FEATURE_EXTRACTORS = {'VGG': VGG_FeatureExtractor, 'RCNN': RCNN_FeatureExtractor,
                      'ResNet': ResNet_FeatureExtractor}
PREDICTIONS = {'CTC': CTC, 'Attn': Attention}
# The sizes a model may have: one rule for a command-line flag and for a model file's stored config.
# The smallest are those every stage can run (VGG, RCNN and ResNet pool the height down 16x, then a 2x2
# conv; TPS puts half its fiducial points on each edge); the largest keep a model file's config from
# asking for unbounded memory before its weights are even looked at.
SIZES = {'num_fiducial': (4, 100), 'input_channel': (1, 3), 'output_channel': (1, 4096), 'hidden_size': (1, 4096),
         'imgH': (32, 1024), 'imgW': (16, 4096), 'batch_max_length': (1, 1000)}
MAX_CLASSES = 100_000  # the prediction layer's outputs: characters + blank or [GO]/[s]


def size_requirement(name):
    """What the size option `name` must be, in words."""
    low, high = SIZES[name]
    if name == 'input_channel':
        return '1 (grayscale) or 3 (RGB)'
    return f'{"an even number" if name == "num_fiducial" else "an integer"} from {low} to {high}'


def size_is_valid(name, value):
    low, high = SIZES[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return False
    return value in (1, 3) if name == 'input_channel' else name != 'num_fiducial' or value % 2 == 0


def check_options(options):
    """ValueError (one line) unless `options` (a mapping of the user's options) holds only valid stages and
    sizes: the same rules as the command line's flags."""
    for stage, choices in STAGE_CHOICES.items():
        if stage in options and options[stage] not in choices:
            raise ValueError(f'{stage} must be one of {"|".join(choices)}, not {str(options[stage])[:40]!r}')
    for name in SIZES:
        if name in options and not size_is_valid(name, options[name]):
            raise ValueError(f'{name} must be {size_requirement(name)}, not {str(options[name])[:40]!r}')


@dataclass
class ModelConfig:
    """Everything needed to rebuild a Model; stored in every kocrnn checkpoint."""
    num_class: int
    Transformation: str = 'TPS'
    FeatureExtraction: str = 'ResNet'
    SequenceModeling: str = 'BiLSTM'
    Prediction: str = 'CTC'
    num_fiducial: int = 20
    input_channel: int = 1
    output_channel: int = 512
    hidden_size: int = 256
    imgH: int = 32
    imgW: int = 100
    batch_max_length: int = 25

    def __post_init__(self):
        check_options(asdict(self))
        if isinstance(self.num_class, bool) or not isinstance(self.num_class, int) or not 2 <= self.num_class <= MAX_CLASSES:
            raise ValueError(f'num_class must be an integer from 2 to {MAX_CLASSES}, not {str(self.num_class)[:40]!r}')

    @property
    def name(self):
        return '-'.join(getattr(self, stage) for stage in STAGE_CHOICES)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def defaults(cls):
        """{option: default} of every option a user chooses (num_class follows from the charset)."""
        return {f.name: f.default for f in fields(cls) if f.name != 'num_class'}

    @classmethod
    def from_dict(cls, values):
        """A stored config (a model file's): ValueError or TypeError when it is not a valid one."""
        if not isinstance(values, dict):
            raise TypeError(f'a model config is a mapping of options, not a {type(values).__name__}')
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


class Model(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

        if config.Transformation == 'TPS':
            self.Transformation = TPS_SpatialTransformerNetwork(
                F=config.num_fiducial, I_size=(config.imgH, config.imgW),
                I_r_size=(config.imgH, config.imgW), I_channel_num=config.input_channel)

        self.FeatureExtraction = FEATURE_EXTRACTORS[config.FeatureExtraction](
            config.input_channel, config.output_channel)
        feature_size = config.output_channel

        if config.SequenceModeling == 'BiLSTM':
            self.SequenceModeling = nn.Sequential(
                BidirectionalLSTM(feature_size, config.hidden_size, config.hidden_size),
                BidirectionalLSTM(config.hidden_size, config.hidden_size, config.hidden_size))
            feature_size = config.hidden_size

        self.Prediction = PREDICTIONS[config.Prediction](feature_size, config.hidden_size, config.num_class)
        self.channels_last = False

    def use_channels_last(self, enabled=True):
        """Run the feature extractor in channels-last (NHWC) memory, the layout oneDNN's convolutions and
        max-pooling run fastest in on some CPUs (precision.channels_last_pays). The weights stay the same
        numbers; checkpoints store them contiguous."""
        self.FeatureExtraction.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)
        self.channels_last = enabled
        return self

    def encode(self, image):
        """Stages 1-3: image (batch x input_channel x imgH x imgW in [-1, 1]) -> batch x T x feature states."""
        if self.config.Transformation == 'TPS':
            image = self.Transformation(image)
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        visual_feature = self.FeatureExtraction(image)           # batch x C x H x W
        # Average over height to get one feature vector per column (dtrb's AdaptiveAvgPool2d((None, 1))
        # after the permute; a mean exports to ONNX everywhere).
        sequence = visual_feature.mean(dim=2).permute(0, 2, 1)   # batch x W x C
        if self.config.SequenceModeling == 'BiLSTM':
            sequence = self.SequenceModeling(sequence)
        return sequence.contiguous()

    def forward(self, image, text=None, is_train=True):
        """image: batch x input_channel x imgH x imgW in [-1, 1].
        text: attention decoder input (ignored by CTC). Returns batch x T x num_class scores."""
        return self.Prediction(self.encode(image), text, is_train, batch_max_length=self.config.batch_max_length)
