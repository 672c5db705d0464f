"""Prediction heads: what the Prediction layer's scores mean, and everything that follows from it.

A head owns its label converter (text <-> class indices), its training loss, how the network is run at
inference, and which decoding functions (decoding.py) read its scores. The head is chosen by name here,
once (`make_head`); no other module asks which head a model has.

- CTC: one distribution per frame over blank + the charset; the loss sums every alignment.
- Attn: one distribution per decoding step over [GO], [s] + the charset, each step fed the previous
  character (teacher forcing in training; the best one, or a beam of them, at inference).
"""
import numpy as np
import torch
import torch.nn as nn

import decoding


class CTCLabelConverter:
    """Text <-> class indices for CTC; index 0 is the blank."""

    def __init__(self, characters):
        self.character = ['[CTCblank]'] + list(characters)
        self.dict = {char: i + 1 for i, char in enumerate(characters)}
        self._lookup = np.array(self.character, dtype=object)

    @property
    def num_class(self):
        return len(self.character)

    def encode(self, texts, batch_max_length=25):
        """Returns (batch x batch_max_length indices padded with 0, lengths). A text longer than the model
        can emit (only with --data_filtering_off) is cut for the loss; it still counts wrong in accuracy."""
        texts = [t[:batch_max_length] for t in texts]
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        batch_text = torch.zeros(len(texts), batch_max_length, dtype=torch.long)
        for i, text in enumerate(texts):
            indices = [self.dict[char] for char in text]
            batch_text[i, :len(indices)] = torch.tensor(indices, dtype=torch.long)
        return batch_text, lengths

    def decode_greedy(self, best_indices):
        """best_indices: batch x T argmax classes -> strings, repeats merged and blanks removed."""
        best_indices = best_indices.cpu().numpy()
        previous = np.concatenate([np.full((best_indices.shape[0], 1), -1), best_indices[:, :-1]], axis=1)
        keep = (best_indices != 0) & (best_indices != previous)
        return [''.join(self._lookup[row[mask]]) for row, mask in zip(best_indices, keep)]

    def decode(self, text_index, length=None):
        """dtrb's signature: text_index batch x T (or flat) of greedy indices."""
        if text_index.dim() == 1:
            text_index = text_index.view(len(length), -1)
        return self.decode_greedy(text_index)


class AttnLabelConverter:
    """Text <-> class indices for the attention decoder: [GO]=0 starts, [s]=1 ends a sequence."""
    GO, END = 0, 1

    def __init__(self, characters):
        self.character = ['[GO]', '[s]'] + list(characters)
        self.dict = {char: i for i, char in enumerate(self.character)}

    @property
    def num_class(self):
        return len(self.character)

    def encode(self, texts, batch_max_length=25):
        """Returns (batch x (batch_max_length + 2) indices: [GO] text [s] padding, lengths incl. [s]).
        Texts longer than batch_max_length are cut for the loss, as in the CTC converter."""
        texts = [t[:batch_max_length] for t in texts]
        lengths = torch.tensor([len(t) + 1 for t in texts], dtype=torch.long)
        batch_text = torch.zeros(len(texts), batch_max_length + 2, dtype=torch.long)
        for i, text in enumerate(texts):
            indices = [self.dict[char] for char in text] + [self.END]
            batch_text[i, 1:1 + len(indices)] = torch.tensor(indices, dtype=torch.long)
        return batch_text, lengths

    def text_of(self, indices):
        """The text of a step sequence: up to the first [s]; [GO] emits nothing."""
        chars = []
        for index in indices:
            if index == self.END:
                break
            chars.append(self.character[index] if index > self.END else '')
        return ''.join(chars)

    def decode_greedy(self, best_indices):
        return [self.text_of(row) for row in best_indices.cpu().tolist()]

    def decode(self, text_index, length=None):
        return self.decode_greedy(text_index)


class Head:
    """What every head has: a converter over the charset and the longest label it emits."""
    name = None
    converter_class = None

    def __init__(self, characters, batch_max_length=25):
        self.converter = self.converter_class(characters)
        self.batch_max_length = batch_max_length

    def read(self, model, images, method=decoding.GREEDY):
        """Recognise a batch of images: (texts, confidences)."""
        return self.decode_scores(self.scores(model, images), method)

    def decodes_from_scores(self, method):
        """Whether `method` needs only what scores() returns (so it can read an exported ONNX graph's output)."""
        return True


class CTCHead(Head):
    name = 'CTC'
    converter_class = CTCLabelConverter
    # The Prediction tensors with an axis over the classes (its last num_class entries): {key: axis}
    class_axes = {'Prediction.weight': 0, 'Prediction.bias': 0}

    @classmethod
    def num_class(cls, characters):
        return len(characters) + 1  # + blank

    def criterion(self, device):
        return nn.CTCLoss(zero_infinity=True).to(device)

    def loss(self, model, criterion, images, labels):
        text, lengths = self.converter.encode(labels, batch_max_length=self.batch_max_length)
        text, lengths = text.to(images.device), lengths.to(images.device)
        log_probs = model(images, text).float().log_softmax(2).permute(1, 0, 2)  # T x batch x class for CTCLoss
        frames = torch.full((images.size(0),), log_probs.size(0), dtype=torch.long, device=images.device)
        return criterion(log_probs, text, frames, lengths)

    def scores(self, model, images):
        """batch x frames x class scores at inference (what export_onnx.py puts in the graph)."""
        return model(images)

    def decode_scores(self, scores, method=decoding.GREEDY):
        """(texts, confidences) of a batch of scores from scores() (a tensor or a numpy array)."""
        if method.beam_size > 1:
            return decoding.ctc_beam_search(scores, self.converter, method)
        return decoding.ctc_greedy(scores, self.converter)


class AttnHead(Head):
    name = 'Attn'
    converter_class = AttnLabelConverter
    class_axes = {'Prediction.generator.weight': 0, 'Prediction.generator.bias': 0,
                  'Prediction.attention_cell.rnn.weight_ih': 1}  # its input: the features, then the previous class

    @classmethod
    def num_class(cls, characters):
        return len(characters) + 2  # + [GO], [s]

    def criterion(self, device):
        return nn.CrossEntropyLoss(ignore_index=0).to(device)  # index 0 is [GO], used as padding

    def loss(self, model, criterion, images, labels):
        text, _ = self.converter.encode(labels, batch_max_length=self.batch_max_length)
        text = text.to(images.device)
        scores = model(images, text[:, :-1], is_train=True)  # teacher forcing from [GO]
        target = text[:, 1:]
        return criterion(scores.float().reshape(-1, scores.shape[-1]), target.reshape(-1))

    def scores(self, model, images):
        """batch x steps x class scores, each step fed the previous step's best class."""
        go = torch.zeros(images.size(0), self.batch_max_length + 1, dtype=torch.long, device=images.device)
        return model(images, go, is_train=False)

    def decode_scores(self, scores, method=decoding.GREEDY):
        if method.beam_size > 1:
            raise ValueError('attention beam search runs the decoder step by step: use read(), not greedy scores')
        return decoding.attention_greedy(scores, self.converter)

    def decodes_from_scores(self, method):
        return method.beam_size == 1

    def read(self, model, images, method=decoding.GREEDY):
        if method.beam_size > 1:
            return decoding.attention_beam_search(model, images, self.converter, method, self.batch_max_length)
        return super().read(model, images, method)


HEADS = {head.name: head for head in (CTCHead, AttnHead)}


def make_head(prediction, characters, batch_max_length=25):
    """The head for --Prediction `prediction` over `characters`."""
    return HEADS[prediction](characters, batch_max_length)
