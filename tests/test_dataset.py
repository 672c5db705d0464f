"""Batch_Balanced_Dataset fed by any map-style Dataset, not only LMDB."""
import pytest
from PIL import Image
from torch.utils.data import Dataset

from dataset import AlignCollate, Batch_Balanced_Dataset
from utils import UserError


class Solid(Dataset):
    """In-memory crops: plain grey images labelled with their source's letter."""

    def __init__(self, label, count, readable=True):
        self.label, self.count, self.readable = label, count, readable

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        return (Image.new('L', (40, 16), 40 * index % 256), self.label) if self.readable else None


def test_each_batch_takes_its_share_from_every_source():
    batches = Batch_Balanced_Dataset([('a', Solid('a', 30), 0.75), ('b', Solid('b', 7), 0.25)], 8,
                                     AlignCollate(32, 100))
    for _ in range(10):  # b's 7 samples run out every 3.5 batches: its loader starts a new pass
        images, labels = batches.get_batch()
        assert tuple(images.shape) == (8, 1, 32, 100)
        assert labels == ['a'] * 6 + ['b'] * 2
    batches.close()


def test_a_source_with_no_readable_image_stops_with_its_name():
    batches = Batch_Balanced_Dataset([('good', Solid('g', 5), 0.5), ('broken', Solid('x', 5, readable=False), 0.5)],
                                     4, AlignCollate(32, 100))
    with pytest.raises(UserError, match='no readable image in the training data broken'):
        batches.get_batch()
    batches.close()
