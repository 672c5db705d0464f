"""Data: LMDB datasets in dtrb's layout, an image-folder dataset, the resize/normalise collate and
balanced multi-source batching."""
import logging
import math
import os
import signal
import weakref
from collections import Counter
from pathlib import Path

import lmdb
import numpy as np
from natsort import natsorted, ns
import torch
from PIL import Image
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Sampler, Subset

from images import open_image
from charset import LabelNormalizer
from utils import UserError

log = logging.getLogger('kocrnn')
IMAGE_EXTENSIONS = {'.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp'}


def open_lmdb(root):
    """Read-only environment of an LMDB folder and its sample count, with a clear error when broken."""
    root = str(root)
    try:
        env = lmdb.open(root, max_readers=32, readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as error:
        raise UserError(f'cannot open LMDB {root}: {error}') from None
    try:
        return check_lmdb(env, root)
    except UserError:
        env.close()
        raise


def check_lmdb(env, root):
    """(env, num-samples), or a UserError naming the folder when num-samples is missing or wrong."""
    with env.begin(write=False) as txn:
        raw_count = txn.get(b'num-samples')
        if raw_count is None:
            raise UserError(f'LMDB {root} has no num-samples key: not a dataset written by create_lmdb_dataset.py')
        try:
            count = int(raw_count)
        except ValueError:
            raise UserError(f'LMDB {root} has an unreadable num-samples value {raw_count[:20]!r}') from None
        if count > 0 and txn.get(b'label-%09d' % count) is None:
            raise UserError(f'LMDB {root} says num-samples={count} but label-{count:09d} is missing')
    return env, count


def read_label(txn, index):
    """label-%09d as text; None when the key is missing or not UTF-8 (a damaged LMDB)."""
    raw = txn.get(b'label-%09d' % index)
    try:
        return None if raw is None else raw.decode('utf-8')
    except UnicodeDecodeError:
        return None


_process_envs = {}  # (pid, root) -> environment shared by every dataset of this process


def process_env(root):
    """This process's read handle on an LMDB: lmdb refuses a second handle on one path in one process,
    and a handle must not cross a fork, so each process (main or DataLoader worker) keeps its own."""
    key = (os.getpid(), str(root))
    if key not in _process_envs:
        _process_envs[key] = open_lmdb(root)[0]
    return _process_envs[key]


class LmdbDataset(Dataset):
    """One LMDB folder: image-%09d (encoded image bytes) and label-%09d, 1-based, with num-samples.

    Labels are NFC-normalised and lower-cased for case-insensitive charsets. Unless
    data_filtering_off, samples that cannot be learned (empty, longer than batch_max_length, or with
    characters outside the charset) are left out and counted in `filtered`.
    """

    def __init__(self, root, characters, batch_max_length=25, rgb=False, data_filtering_off=False):
        self.root = str(root)
        self.rgb = rgb
        self.normalize = LabelNormalizer(characters)
        shared = _process_envs.get((os.getpid(), self.root))
        env, self.nSamples = check_lmdb(shared, self.root) if shared else open_lmdb(root)
        self.filtered = Counter()
        self.unknown_characters = Counter()
        self.bad_images = set()
        if data_filtering_off:
            self.index_list = list(range(1, self.nSamples + 1))
        else:
            self.index_list = self._filter(env, batch_max_length)
        if not shared:
            env.close()  # reads go through process_env(), opened lazily in the process that reads

    def _filter(self, env, batch_max_length):
        kept = []
        with env.begin(write=False) as txn:
            for index in range(1, self.nSamples + 1):
                label = read_label(txn, index)
                if label is None:
                    self.filtered['label missing or not UTF-8'] += 1
                    continue
                label = self.normalize(label)
                unknown = self.normalize.unknown_characters(label)
                if not label:
                    self.filtered['empty label'] += 1
                elif len(label) > batch_max_length:
                    self.filtered[f'longer than batch_max_length={batch_max_length}'] += 1
                elif unknown:
                    self.filtered['characters outside the charset'] += 1
                    self.unknown_characters.update(unknown)
                else:
                    kept.append(index)
        return kept

    def __len__(self):
        return len(self.index_list)

    def __getitem__(self, position):
        index = self.index_list[position]
        with process_env(self.root).begin(write=False) as txn:
            label = read_label(txn, index)
            image_bytes = txn.get(b'image-%09d' % index)
        image = open_image(image_bytes, self.rgb) if image_bytes is not None and label is not None else None
        if image is None:
            if index not in self.bad_images:
                self.bad_images.add(index)
                log.warning('skipped unreadable sample %09d in %s (image or label missing or undecodable)',
                            index, self.root)
            return None
        # With filtering off, characters the model cannot emit are dropped from the target.
        label = ''.join(c for c in self.normalize(label) if c in self.normalize.charset)
        return image, label

    def describe(self):
        text = f'{self.root}: {self.nSamples} samples, {len(self)} used'
        if self.filtered:
            reasons = ', '.join(f'{count} {reason}' for reason, count in self.filtered.items())
            text += f' (filtered: {reasons})'
        if self.unknown_characters:
            top = ''.join(c for c, _ in self.unknown_characters.most_common(20))
            text += f'; characters outside the charset: {top!r}'
        return text



def find_lmdb_folders(root, select=None):
    """Every folder under root holding a data.mdb whose path contains `select` (dtrb's selection)."""
    root = Path(root)
    if not root.exists():
        raise UserError(f'data folder {root} does not exist')
    folders = sorted({p.parent for p in root.rglob('data.mdb')} | ({root} if (root / 'data.mdb').exists() else set()))
    if select not in (None, '', '/'):
        folders = [f for f in folders if select in str(f)]
    if not folders:
        raise UserError(f'no LMDB dataset (data.mdb) under {root}' + (f' matching {select!r}' if select not in (None, '', '/') else ''))
    return folders


def hierarchical_dataset(root, characters, select=None, **dataset_options):
    """ConcatDataset of every LMDB folder under root (matching `select`), each described in the log."""
    datasets = []
    for folder in find_lmdb_folders(root, select):
        dataset = LmdbDataset(folder, characters, **dataset_options)
        log.info(dataset.describe())
        datasets.append(dataset)
    return ConcatDataset(datasets), datasets


def list_images(folder):
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f'image folder {folder} does not exist')
    return natsorted((p for p in folder.rglob('*') if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
                     key=str, alg=ns.IGNORECASE)  # img2 before img10, as a file manager shows them


class RawDataset(Dataset):
    """The images of a folder (recursively), for demo.py. Yields (image or None, path)."""

    def __init__(self, folder, rgb=False):
        self.rgb = rgb
        self.paths = list_images(folder)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return open_image(self.paths[index], self.rgb), str(self.paths[index])


def image_to_tensor(image):
    """PIL image -> float tensor C x H x W in [-1, 1]."""
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return torch.from_numpy((array / 127.5) - 1.0)


def resize_normalize(image, imgH, imgW):
    return image_to_tensor(image.resize((imgW, imgH), Image.BICUBIC))


def resize_keep_ratio_pad(image, imgH, imgW):
    """Resize to height imgH keeping the aspect ratio (width at most imgW), then fill the right side
    with the last column, as dtrb's --PAD does."""
    width, height = image.size
    resized_w = min(imgW, max(1, math.ceil(imgH * width / height)))
    tensor = image_to_tensor(image.resize((resized_w, imgH), Image.BICUBIC))
    if resized_w < imgW:
        fill = tensor[:, :, resized_w - 1:resized_w].expand(-1, -1, imgW - resized_w)
        tensor = torch.cat([tensor, fill], dim=2)
    return tensor


class AlignCollate:
    """Collate (image, x) pairs into (batch tensor, [x]); samples whose image is None are dropped."""

    def __init__(self, imgH=32, imgW=100, keep_ratio_with_pad=False):
        self.imgH = imgH
        self.imgW = imgW
        self.keep_ratio_with_pad = keep_ratio_with_pad

    def __call__(self, batch):
        batch = [sample for sample in batch if sample is not None and sample[0] is not None]
        if not batch:
            return None, []
        resize = resize_keep_ratio_pad if self.keep_ratio_with_pad else resize_normalize
        images = torch.stack([resize(image, self.imgH, self.imgW) for image, _ in batch])
        return images, [other for _, other in batch]


def ignore_stop_signals(worker_id):
    """DataLoader workers leave Ctrl-C / SIGTERM to the main process, which saves last.pth and then shuts
    them down; a worker dying first would turn a clean stop into a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def default_workers():
    """Loader workers that leave a core for the model: dtrb's 4 oversubscribes a 2-core machine."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


class ShardedShuffleSampler(Sampler):
    """A fresh permutation each epoch (seeded by seed + epoch), of which this process takes every
    world_size-th index starting at its rank, the tail cut so every rank gets as many: across ranks no
    sample is drawn twice per epoch, and one rank's batches together are the batches a single process
    with world_size times the batch would draw. With world_size 1 it is a plain seeded shuffle.
    `trace`, a list, receives every index drawn (train.py --log_samples)."""

    def __init__(self, length, rank=0, world_size=1, seed=0, trace=None):
        self.length, self.rank, self.world_size, self.seed = length, rank, world_size, seed
        self.epoch = 0
        self.trace = trace

    def __len__(self):
        return self.length // self.world_size

    def __iter__(self):
        order = torch.randperm(self.length, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        self.epoch += 1
        usable = self.length - self.length % self.world_size
        for index in order[:usable][self.rank::self.world_size].tolist():
            if self.trace is not None:
                self.trace.append(index)
            yield index


def split_workers(workers, ratios):
    """Share `workers` loader processes among sources in proportion to their batch share (at least one
    each when there are any): a source filling 80 % of each batch needs 4x the decoding of a 20 % one."""
    if workers <= 0:
        return [0] * len(ratios)
    total = sum(ratios) or 1.0
    return [max(1, round(workers * ratio / total)) for ratio in ratios]


def shutdown_loader_workers(iterators):
    """Left to interpreter exit, multiprocessing would SIGTERM the workers, which ignore it (see
    ignore_stop_signals), and then wait for them forever; DataLoader's own shutdown tells them to stop."""
    for iterator in iterators:
        shutdown = getattr(iterator, '_shutdown_workers', None)
        if shutdown:
            shutdown()


def lmdb_sources(train_data, select_data, batch_ratio, characters, total_data_usage_ratio=1.0, seed=1111,
                 **dataset_options):
    """dtrb's --select_data/--batch_ratio as Batch_Balanced_Dataset sources: (name, dataset, ratio) per
    selection, each the LMDB folders under train_data whose path contains it (a random
    total_data_usage_ratio share of them)."""
    if len(select_data) != len(batch_ratio):
        raise UserError(f'--select_data has {len(select_data)} parts but --batch_ratio has {len(batch_ratio)}')
    generator = torch.Generator().manual_seed(seed)
    sources = []
    for select, ratio in zip(select_data, batch_ratio):
        dataset, parts = hierarchical_dataset(train_data, characters, select=select, **dataset_options)
        name = str(train_data) if select in ('', '/') else f'{train_data} ({select})'
        total = len(dataset)
        used = int(total * float(total_data_usage_ratio))
        if used == 0:
            raise UserError(f'no usable training sample in {name}: ' + '; '.join(p.describe() for p in parts))
        if used < total:
            dataset = Subset(dataset, torch.randperm(total, generator=generator)[:used].tolist())
            log.info('%s: %d of %d samples used (--total_data_usage_ratio)', name, used, total)
        sources.append((name, dataset, float(ratio)))
    return sources


class Batch_Balanced_Dataset:
    """Draws each batch from several sources in fixed proportions (dtrb's --select_data/--batch_ratio).

    sources: (name, dataset, ratio) triples, any map-style Dataset of (image, label) pairs (None for an
    unreadable one); each source fills round(batch_size * ratio) of a batch and loops forever over its own
    shuffled DataLoader (this process's shard of it under torchrun).
    """

    def __init__(self, sources, batch_size, collate, workers=0, seed=1111, rank=0, world_size=1, trace=False):
        source_workers = split_workers(workers, [ratio for _, _, ratio in sources])
        self.loaders, self.iterators, self.batch_sizes = [], [], []
        self.names = [name for name, _, _ in sources]
        self.readable = [False] * len(sources)  # per source: a readable batch seen in the current pass
        self.drawn = {}  # name -> dataset indices drawn by this process, when traced
        for (name, dataset, ratio), loader_workers in zip(sources, source_workers):
            source_batch = max(round(batch_size * ratio), 1)
            per_process = len(dataset) // world_size
            if per_process == 0:
                raise UserError(f'{name} has {len(dataset)} samples, fewer than the {world_size} processes')
            log.info('%s: %d samples, %d per batch%s, %d loader workers', name, len(dataset), source_batch,
                     f' per process ({per_process} each)' if world_size > 1 else '', loader_workers)
            self.drawn[name] = [] if trace else None
            sampler = ShardedShuffleSampler(len(dataset), rank, world_size, seed + len(self.loaders), self.drawn[name])
            loader = DataLoader(dataset, batch_size=source_batch, sampler=sampler, num_workers=loader_workers,
                                collate_fn=collate, drop_last=per_process >= source_batch,
                                persistent_workers=loader_workers > 0, pin_memory=torch.cuda.is_available(),
                                worker_init_fn=ignore_stop_signals)
            self.loaders.append(loader)
            self.iterators.append(iter(loader))
            self.batch_sizes.append(source_batch)
        self._finalizer = weakref.finalize(self, shutdown_loader_workers, self.iterators)

    def _next_from(self, source):
        """The next batch of a source with at least one readable image. A whole pass over the source
        without one is an error: retrying would loop forever."""
        readable_this_pass = self.readable[source]
        while True:
            try:
                images, labels = next(self.iterators[source])
            except StopIteration:
                if not readable_this_pass:
                    raise UserError(f'no readable image in the training data {self.names[source]}: every image of a '
                                    'full pass failed to decode (see the warnings above)') from None
                self.iterators[source] = iter(self.loaders[source])
                readable_this_pass = self.readable[source] = False
                continue
            if images is not None:
                self.readable[source] = True
                return images, labels

    def close(self):
        """Stop the loader workers now (also done at interpreter exit, however the run ends)."""
        self._finalizer()

    def get_batch(self):
        images, labels = [], []
        for source in range(len(self.loaders)):
            source_images, source_labels = self._next_from(source)
            images.append(source_images)
            labels.extend(source_labels)
        return torch.cat(images, 0), labels
